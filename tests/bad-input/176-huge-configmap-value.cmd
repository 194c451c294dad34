# A ConfigMap holding 1.2 MB: over a ConfigMap's 1 MiB, and its last-applied copy over the 256 KiB of annotations.
# generate big.yaml: large-value 1200000
apply -f $GENERATED/big.yaml
