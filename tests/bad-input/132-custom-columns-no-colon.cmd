# custom-columns without a header:path pair.
get pods -o custom-columns=NAME
