# scale to -1 replicas.
scale deployment/coredns -n kube-system --replicas=-1
