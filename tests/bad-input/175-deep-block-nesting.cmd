# 120 nested block mappings: valid YAML, deeper than netsim reads.
# generate deep.yaml: block-nesting 120
apply -f $GENERATED/deep.yaml
