# A ConfigMap holding 2 MiB: with its last-applied copy, over the API server's 3 MiB request limit.
# generate big.yaml: large-value 2097152
apply -f $GENERATED/big.yaml
