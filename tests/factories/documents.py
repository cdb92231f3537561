"""Documents deposited in the archive without the feature that would produce them."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from tests.factories.clock import REFERENCE_NOW
from tests.factories.db import runtime


def deposit_file(
    app: Flask,
    client_id: int | None,
    kind: DocumentKind,
    reference: str,
    *,
    data: bytes | None = None,
    filename: str | None = None,
    now: datetime = REFERENCE_NOW,
    retention: bool = True,
) -> Document:
    """A PDF-looking file of `kind` deposited for `client_id` (version 1) at `now`. With
    `retention`, its retention dates follow the instance's rules, as the features' deposits
    do."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        return deposit(
            session,
            rt.store,
            kind=kind,
            client_id=client_id,
            reference=reference,
            version=1,
            data=data if data is not None else f"%PDF-1.7 {kind.value} {reference}".encode(),
            media_type="application/pdf",
            filename=filename or f"{reference}.pdf",
            now=now,
            actor="test",
            retention=rt.settings.retention if retention else None,
        )


def deposit_document(app: Flask, client_id: int, reference: str = "CTR-2026-0001") -> int:
    """A contract PDF deposited without retention rules; returns its document id."""
    return deposit_file(
        app,
        client_id,
        DocumentKind.CONTRACT,
        reference,
        data=f"%PDF-1.7 {reference}\n".encode(),
        filename=f"{reference}-v1.pdf",
        retention=False,
    ).id
