# With --validate=false the client skips its check, and the decoder finds no kind.
apply -f tests/bad-input/044-missing-kind.yaml --validate=false
