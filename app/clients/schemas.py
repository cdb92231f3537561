"""The API's shapes for clients: the body of a creation or an update (the same members as
the web form, `app.clients.forms`), and the client as answered."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from app.clients import rules, services
from app.clients.errors import ClientInvalid
from app.clients.models import Client
from app.json_input import Reader
from app.messages import msg

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
    "signer_title": 120,
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


LOOKUP = ("siren", "vat_number")
"""What a client is looked up by (`GET /clients?siren=`): one of them, never a whole listing."""
SIREN_PATTERN = "^[0-9]{9}$"
VAT_PATTERN = "^[A-Z]{2}[0-9A-Z]{2,13}$"
"""A lookup's values as stored (`rules.normalise_*`): no space, no dot, capitals; written
otherwise, refused, as the OpenAPI description says."""


def parse_lookup(args: dict[str, str]) -> tuple[str, str]:
    """The SIREN or the VAT number asked for (one of the two, as stored; the other empty), or
    ClientInvalid with every problem of the query at once."""
    errors: dict[str, str] = {
        name: msg("Paramètre inconnu (acceptés : {accepted}).", accepted=", ".join(LOOKUP))
        for name in sorted(set(args) - set(LOOKUP))
    }
    siren, vat = args.get("siren", ""), args.get("vat_number", "")
    # `?siren=` (a CRM whose record has no SIREN yet) is told it sent nothing, not that
    # nothing is a wrong SIREN: the fix is on its side, not in the digits.
    if "siren" in args and not siren:
        errors["siren"] = msg("Le SIREN recherché est vide.")
    elif "siren" in args and not rules.is_valid_siren(siren):
        errors["siren"] = rules.SIREN_INVALID
    if "vat_number" in args and not vat:
        errors["vat_number"] = msg("Le numéro de TVA recherché est vide.")
    elif "vat_number" in args and not (
        re.fullmatch(VAT_PATTERN, vat) and rules.is_valid_eu_vat(vat)
    ):
        errors["vat_number"] = msg(
            "Numéro de TVA intracommunautaire invalide (préfixe du pays, longueur ou clé)."
        )
    if not any(name in args for name in LOOKUP):
        errors["siren"] = msg("Indiquez le SIREN (siren) ou le numéro de TVA (vat_number).")
    elif all(name in args for name in LOOKUP):
        errors.setdefault("vat_number", msg("Le SIREN ou le numéro de TVA, pas les deux."))
    if errors:
        raise ClientInvalid(errors)
    return siren, vat


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
        "signer_title": client.signer_title,
        "status": client.status.value,
        "created_at": client.created_at.isoformat(),
        "links": {
            "self": f"/api/v1/clients/{client.id}",
            "cgv": f"/api/v1/clients/{client.id}/cgv",
        },
    }
