# One more document than netsim reads from one file.
# generate many.yaml: documents 100001
apply -f $GENERATED/many.yaml
