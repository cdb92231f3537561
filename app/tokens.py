"""Link tokens: the credential inside an emailed link (signing, CGV acceptance, restitution,
password reset, API keys). One rule for all of them: 256 bits from the OS CSPRNG, shown once,
and only their SHA-256 stored, so a copy of the database opens no link."""

from __future__ import annotations

import hashlib
import secrets


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (a fast hash is right here: the token
    has 256 bits of entropy, nothing to brute-force, unlike a password)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
