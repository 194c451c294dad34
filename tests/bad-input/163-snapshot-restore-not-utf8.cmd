# snapshot restore of a file that is not UTF-8 text (Latin-1 bytes).
snapshot restore tests/bad-input/data/latin1.yaml
