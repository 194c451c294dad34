# A Go template for a printer netsim does not have yet.
get svc kubernetes -o go-template={{.metadata.name}}
