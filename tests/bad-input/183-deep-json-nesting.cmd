# A JSON manifest nesting 120 arrays: deeper than netsim reads.
# generate deep.json: json-nesting 120
apply -f $GENERATED/deep.json
