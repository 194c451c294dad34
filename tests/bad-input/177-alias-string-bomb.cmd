# One anchored 1 MiB string referenced 10000 times: 10 GB once expanded.
# generate bomb.yaml: alias-bomb 10000 1048576
apply -f $GENERATED/bomb.yaml
