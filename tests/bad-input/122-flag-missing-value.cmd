# -o at the end of the line, without its value.
get pods -o
