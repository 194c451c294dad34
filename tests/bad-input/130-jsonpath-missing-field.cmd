# expect: ok
# A JSONPath field that does not exist prints nothing, as kubectl get does.
get svc kubernetes -o jsonpath={.spec.nosuchfield}
