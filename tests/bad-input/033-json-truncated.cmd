# A JSON file cut off in the middle.
apply -f tests/bad-input/data/truncated.json
