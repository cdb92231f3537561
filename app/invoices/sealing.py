"""The platform's optional seal on invoices (setting ``PARAPHE_SEAL_INVOICES``, off by
default): a PAdES signature with the platform's seal key (the key that seals contracts and
evidence files, ``Runtime.signing_key``), applied to the Factur-X PDF/A-3b BEFORE it is
archived. The seal is an incremental update: the Factur-X XML, its file specification
and the XMP metadata of the first revision stay as they are, so the invoice remains a
valid Factur-X whose integrity and origin anyone can check (pyHanko, pdfsig, Acrobat)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.clock import PARIS
from app.runtime import Collaborators
from signing import SigningKey, SignSpec, sign_pdf

INVOICE_SEAL_FIELD = "cachet-facture"

Sealer = Callable[[bytes], bytes]
"""Takes an invoice's Factur-X PDF, gives it sealed."""


def seal_invoice_pdf(pdf: bytes, key: SigningKey, *, now: datetime, sealer: str) -> bytes:
    return sign_pdf(
        pdf,
        key,
        SignSpec(
            field_name=INVOICE_SEAL_FIELD,
            signer_name=sealer,
            signed_at=now.astimezone(PARIS),
            reason="Cachet de la plateforme sur la facture",
            location="Paraphe",
            existing_fields_only=False,  # an invisible field, created by the seal
        ),
    )


def invoice_sealer(collab: Collaborators) -> Sealer | None:
    """The sealer to apply before archiving, or None when the setting is off. The key is
    loaded at the first seal, not here: a run with nothing to produce never loads it."""
    if not collab.settings.seal_invoices:
        return None
    name = collab.settings.vendor.legal_name
    return lambda pdf: seal_invoice_pdf(pdf, collab.signing_key(), now=collab.now, sealer=name)
