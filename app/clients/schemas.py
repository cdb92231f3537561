"""The API's shapes for clients: the body of a creation or an update (the same members as
the web form, `app.clients.forms`), and the client as answered."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.clients import services
from app.clients.models import Client
from app.json_input import Reader

LIMITS = {
    "legal_name": 200,
    "siren": 20,
    "vat_number": 20,
    "address": 300,
    "postal_code": 10,
    "city": 100,
    "country": 2,
    "signer_name": 200,
    "signer_email": 254,
}
"""What the API reads of each member (the form's bounds); `services.validate` then checks
the content (the SIREN's key, the VAT number's, the postal code of the country …)."""
REQUIRED = ("legal_name", "address", "postal_code", "city", "signer_name", "signer_email")
CONFIRM = "confirm_duplicate"


def parse_client(
    body: Any, *, start: services.ClientInput | None = None
) -> tuple[services.ClientInput, bool, dict[str, str]]:
    """The input (members absent from an update keep `start`'s values), whether a duplicate
    SIREN is confirmed, and the problems found reading the body."""
    reader = Reader(body)
    reader.only([*LIMITS, CONFIRM])
    values: dict[str, str] = {}
    for name, limit in LIMITS.items():
        current = getattr(start, name) if start is not None else ("FR" if name == "country" else "")
        required = start is None and name in REQUIRED
        values[name] = reader.text(name, max_length=limit, required=required, default=current)
    confirm = reader.boolean(CONFIRM, default=False)
    base = start or services.ClientInput(**{name: "" for name in LIMITS if name != "country"})
    return dataclasses.replace(base, **values), confirm, reader.errors


def client_json(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "legal_name": client.legal_name,
        "siren": client.siren,
        "vat_number": client.vat_number,
        "address": client.address,
        "postal_code": client.postal_code,
        "city": client.city,
        "country": client.country,
        "signer_name": client.signer_name,
        "signer_email": client.signer_email,
        "status": client.status.value,
        "created_at": client.created_at.isoformat(),
        "links": {
            "self": f"/api/v1/clients/{client.id}",
            "cgv": f"/api/v1/clients/{client.id}/cgv",
        },
    }
