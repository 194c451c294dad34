# 20000 nested flow sequences ([[[...]]]), past go-yaml's own limit of 10000.
# generate deep.yaml: flow-nesting 20000
apply -f $GENERATED/deep.yaml
