"""The invoices' part of the OpenAPI description (scope read): an invoice and a credit note,
as `app.invoices.api` answers them and as the `invoice.*` / `credit_note.issued` webhooks
link to them."""

from __future__ import annotations

from typing import Any

from app.archive.openapi_parts import path_id, read_one, ref, required_object
from app.invoices.api import STATUSES

_MONEY = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "description": "En euros."}
_DATE = {"type": "string", "format": "date"}
_LINK = {"type": "string"}
_PDF_LINK = {
    "type": "string",
    "nullable": True,
    "description": "Le PDF archivé (GET, portée read) ; null tant qu'il est produit.",
}
_TOTALS = {"total_excl_vat": _MONEY, "total_vat": _MONEY, "total_incl_vat": _MONEY}


SCHEMAS: dict[str, Any] = {
    "Invoice": required_object(
        {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "status": {
                "type": "string",
                "enum": list(STATUSES),
                "description": "open : reste dû, pas encore échue ; overdue : échue avec un "
                "reste dû ; paid : réglée ; credited : annulée par avoir.",
            },
            "issued_on": _DATE,
            "due_on": _DATE,
            "period": {"type": "string", "nullable": True, "description": "AAAA-MM (échéancier)."},
            "client_id": {"type": "integer"},
            "contract_id": {"type": "integer", "nullable": True},
            "currency": {"type": "string", "enum": ["EUR"]},
            **_TOTALS,
            "amount_paid": _MONEY,
            "amount_due": _MONEY,
            "credit_notes": {
                "type": "array",
                "items": required_object(
                    {
                        "id": {"type": "integer"},
                        "number": {"type": "string"},
                        "links": required_object({"self": _LINK}),
                    }
                ),
            },
            "links": required_object(
                {"self": _LINK, "client": _LINK, "document": _PDF_LINK, "content": _PDF_LINK}
            ),
        }
    ),
    "CreditNote": required_object(
        {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "issued_on": _DATE,
            "reason": {"type": "string"},
            "client_id": {"type": "integer"},
            "invoice": required_object({"id": {"type": "integer"}, "number": {"type": "string"}}),
            "contract_id": {"type": "integer", "nullable": True},
            "currency": {"type": "string", "enum": ["EUR"]},
            **_TOTALS,
            "links": required_object(
                {
                    "self": _LINK,
                    "invoice": _LINK,
                    "client": _LINK,
                    "document": _PDF_LINK,
                    "content": _PDF_LINK,
                }
            ),
        }
    ),
}

PATHS: dict[str, Any] = {
    "/invoices/{invoice_id}": read_one(
        "Une facture",
        ref("Invoice"),
        "Montants, reste dû, état, lien du PDF.",
        path_id("invoice_id", "Identifiant de la facture"),
    ),
    "/credit-notes/{note_id}": read_one(
        "Un avoir",
        ref("CreditNote"),
        "Montants, facture annulée, lien du PDF.",
        path_id("note_id", "Identifiant de l'avoir"),
    ),
}
