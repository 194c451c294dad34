# A YAML patch (kubectl reads -p as YAML) that does not parse.
patch svc kubernetes -p 'spec: {type: NodePort'
