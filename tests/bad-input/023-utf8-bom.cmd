# expect: ok
# A UTF-8 byte-order mark before the first key, as some Windows editors write.
apply -f tests/bad-input/data/bom.yaml
