# --replicas with a word.
create deployment web --image=nginx --replicas=three
