# A List of more objects than one apply takes.
# generate list.yaml: list 100001
apply -f $GENERATED/list.yaml
