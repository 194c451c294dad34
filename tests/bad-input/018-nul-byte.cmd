# A NUL byte inside a quoted value.
apply -f tests/bad-input/data/nul-byte.yaml
