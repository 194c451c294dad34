# The file says namespace kube-system, the flag says default.
apply -f tests/bad-input/data/in-kube-system.yaml -n default
