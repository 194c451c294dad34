# --dry-run=yes.
apply -f tests/bad-input/data/service.json --dry-run=yes
