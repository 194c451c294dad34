# run with a name that is not a DNS label.
run Web_1 --image=nginx
