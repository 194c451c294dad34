# A label key with a space.
label svc kubernetes 'bad key=x'
