# With --validate=false a document that is only a string reaches the kind detector.
apply -f tests/bad-input/024-scalar-document.yaml --validate=false
