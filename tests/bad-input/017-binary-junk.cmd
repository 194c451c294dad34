# A binary file (a PNG) named .yaml.
apply -f tests/bad-input/data/logo.png.yaml
