# ssh to a node that does not exist.
ssh k8s-worker9 -- ip addr
