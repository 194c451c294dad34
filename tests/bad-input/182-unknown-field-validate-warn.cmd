# expect: ok
# With --validate=warn the misspelled field is dropped with a warning, and the Service is created.
apply -f tests/bad-input/050-misspelled-field.yaml --validate=warn
