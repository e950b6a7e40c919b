"""The extract contract, its code lists, and validation (`python -m schemas validate`)."""
