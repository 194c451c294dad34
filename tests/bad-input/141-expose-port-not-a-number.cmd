# expose with --port=abc.
expose deployment coredns -n kube-system --port=abc
