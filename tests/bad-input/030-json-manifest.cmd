# expect: ok
# A JSON manifest: kubectl reads .json files as well as YAML.
apply -f tests/bad-input/data/service.json
