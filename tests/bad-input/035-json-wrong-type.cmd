# A port written as a JSON string.
apply -f tests/bad-input/data/port-string.json
