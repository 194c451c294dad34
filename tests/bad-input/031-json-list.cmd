# expect: ok
# A JSON List of two objects.
apply -f tests/bad-input/data/list.json
