# A single 8 MiB line of letters, without a newline: a scalar, not an object.
# generate line.yaml: letters 8388608
apply -f $GENERATED/line.yaml
