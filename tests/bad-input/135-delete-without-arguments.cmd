# delete with nothing to delete.
delete
