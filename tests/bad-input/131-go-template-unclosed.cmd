# A Go template whose action is never closed.
get svc kubernetes -o go-template={{.metadata.name
