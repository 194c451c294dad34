# create deployment without --image.
create deployment web
