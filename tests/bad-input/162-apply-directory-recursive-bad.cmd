# A directory whose YAML files are all broken.
apply -f tests/bad-input/data/broken-dir
