"""Archived documents: the record, its retention, deposit and the one integrity-checked read."""
