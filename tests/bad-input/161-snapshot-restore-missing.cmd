# snapshot restore of a file that does not exist.
snapshot restore tests/bad-input/no-such-snapshot.yaml
