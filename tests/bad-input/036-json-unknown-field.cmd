# A misspelled field (nodeport) in a JSON manifest.
apply -f tests/bad-input/data/unknown-field.json
