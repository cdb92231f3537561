"""Refusals of the Idempotency-Key header (statuses and titles: `app.error_table`)."""

from __future__ import annotations

from app.errors import Conflict, InvalidBody
from app.messages import msg


class IdempotencyKeyInvalid(InvalidBody):
    """The header is not a key we keep (empty, too long, not printable ASCII)."""

    def __init__(self) -> None:
        super().__init__(
            {"Idempotency-Key": msg("De 1 à 255 caractères ASCII imprimables (un UUID convient).")}
        )


class IdempotencyKeyReused(Conflict):
    """The key was first used for another request (another body, path or method)."""

    def __init__(self) -> None:
        super().__init__(
            msg(
                "Cette clé d'idempotence a déjà servi pour une autre requête dans les dernières "
                "24 heures : choisissez une nouvelle clé pour une nouvelle requête."
            )
        )


class IdempotencyKeyInProgress(Conflict):
    """The first request with the key is still being answered after the wait."""

    def __init__(self) -> None:
        super().__init__(
            msg(
                "Une requête avec cette clé d'idempotence est encore en cours : "
                "réessayez dans un instant pour obtenir sa réponse."
            )
        )
