# A type both as a word and in type/name.
get svc svc/kubernetes
