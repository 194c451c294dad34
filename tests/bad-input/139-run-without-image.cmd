# run without --image.
run web
