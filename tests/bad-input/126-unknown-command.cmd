# A misspelled verb.
gte pods
