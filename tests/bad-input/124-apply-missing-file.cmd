# A file that does not exist.
apply -f tests/bad-input/no-such-file.yaml
