# An object that does not exist.
get svc nosuch
