# A patch that is not JSON.
patch svc kubernetes -p '{bad'
