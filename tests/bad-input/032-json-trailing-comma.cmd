# JSON does not allow a comma before a closing brace.
apply -f tests/bad-input/data/trailing-comma.json
