# A shorthand flag get does not have.
get pods -x
