"""The backups' encryption keys (crypto-shredding): the keyring file and each key's state.
Below the features so that the purge, which destroys a client's key, can use it; the backups
themselves (app/backups) are above everything they copy."""
