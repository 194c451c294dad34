# An empty file.
apply -f tests/bad-input/data/empty.yaml
