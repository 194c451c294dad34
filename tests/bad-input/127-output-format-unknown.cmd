# -o yml instead of -o yaml.
get pods -o yml
