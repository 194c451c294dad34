# create with a type it cannot generate.
create widget web
