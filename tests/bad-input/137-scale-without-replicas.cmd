# scale without --replicas.
scale deployment/coredns -n kube-system
