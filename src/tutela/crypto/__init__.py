"""Keys and what is done with them: the keyring, keyed hashing, signing and encryption."""
