# apply -f - with nothing on standard input.
apply -f -
