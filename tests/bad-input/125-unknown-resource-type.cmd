# A resource type that does not exist.
get pod5
