# expect: ok
# A file saved as Latin-1 (ü is one byte, 0xFC): kubectl reads such bytes as U+FFFD.
apply -f tests/bad-input/data/latin1.yaml
