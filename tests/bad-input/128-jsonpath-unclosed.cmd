# A JSONPath template without its closing brace.
get svc kubernetes -o jsonpath={.spec.clusterIP
