# One more document than netsim reads from one file.
# generate many.yaml: documents 10001
apply -f $GENERATED/many.yaml
