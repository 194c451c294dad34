# --seed with a word.
--seed abc get pods
