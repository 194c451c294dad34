# apply with neither -f nor -k.
apply
