# --now with a word.
--now yesterday get pods
