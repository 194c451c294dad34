# --validate=maybe.
apply -f tests/bad-input/data/service.json --validate=maybe
