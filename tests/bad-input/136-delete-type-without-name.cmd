# delete with a type and no name.
delete pods
