# A List of more objects than one apply takes.
# generate list.yaml: list 10001
apply -f $GENERATED/list.yaml
