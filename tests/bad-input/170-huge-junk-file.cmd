# A 50 MiB file of random bytes: refused at once, before it is read.
# generate junk.yaml: junk 52428800
apply -f $GENERATED/junk.yaml
