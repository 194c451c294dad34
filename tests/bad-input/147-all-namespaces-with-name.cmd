# A name with --all-namespaces.
get pods -A coredns
