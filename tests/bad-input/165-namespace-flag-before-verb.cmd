# expect: ok
# kubectl global flags may come before the verb.
-n kube-system get configmap coredns -o name
