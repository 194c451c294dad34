# expect: ok
# Windows line endings (CRLF): kubectl reads them.
apply -f tests/bad-input/data/crlf.yaml
