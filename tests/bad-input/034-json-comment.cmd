# JSON has no comments.
apply -f tests/bad-input/data/comment.json
