# 50 MiB of random bytes on standard input: refused once the limit is passed.
# generate junk.yaml: junk 52428800
# stdin: $GENERATED/junk.yaml
apply -f -
