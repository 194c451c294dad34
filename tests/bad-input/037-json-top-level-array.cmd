# A JSON array of objects rather than a List.
apply -f tests/bad-input/data/array.json
