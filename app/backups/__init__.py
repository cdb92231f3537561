"""Backups: the database and the blobs copied to a target, sealed and journaled; restored into an
empty instance, every byte checked; each client's documents under that client's key, destroyed
by the purge (crypto-shredding)."""
