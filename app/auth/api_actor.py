"""Who the journal names for a request made through the API: the token, not a person."""

from __future__ import annotations

from app.auth.guards import current_token


def token_actor() -> str:
    return f"token:{current_token().id}"
