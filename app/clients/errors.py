from __future__ import annotations

from app.clients.models import Client
from app.errors import Conflict, FieldErrors, NotFound
from app.messages import msg


class ClientInvalid(FieldErrors):
    """Client data that fails validation, one message per field."""


class ClientNotFound(NotFound):
    """No client with this id."""


class ClientAlreadyTerminated(Conflict):
    """The client's termination is already recorded."""


class ClientChanged(Conflict):
    """The client record changed since the reading an edit started from (another person's
    edit, a CRM's): applied, the edit would silently undo that change."""

    def __init__(self, detail: str, *, revision: int) -> None:
        super().__init__(detail)
        self.revision = revision

    def members(self) -> dict[str, object]:
        """The current revision, the one to read again and start from."""
        return {"revision": self.revision}


class ClientDuplicate(Conflict):
    """Another client has the same SIREN (or, abroad, the same VAT number): a second
    contracting entity with one SIREN exists only by explicit confirmation."""

    def __init__(self, existing: list[Client], *, key: str) -> None:
        names = ", ".join(f"« {c.legal_name} » (n° {c.id})" for c in existing)
        # One sentence per key, not the key as a value: its name is a word to translate too.
        if key == "SIREN":
            detail = msg("Un client a déjà ce SIREN : {names}.", names=names)
        else:
            detail = msg("Un client a déjà ce numéro de TVA : {names}.", names=names)
        super().__init__(detail)
        self.existing = existing
        self.key = key

    def members(self) -> dict[str, object]:
        """The first of the clients already there (the one a CRM links to), and all of them."""
        return {
            "client_id": self.existing[0].id,
            "client_ids": [c.id for c in self.existing],
            "links": {"client": f"/api/v1/clients/{self.existing[0].id}"},
        }


class BillingContactNotFound(NotFound):
    """No billing contact with this id for this client."""
