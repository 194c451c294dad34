# A flag get does not have.
get pods --colour
