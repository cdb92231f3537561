"""Rows that the web flows leave behind between two steps (a contract generation asked for, a
CGV text waiting in its preview), written directly so that a test can open their pages without
running the renders that made them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import select, update

from app.contracts import requested
from app.contracts.models import ContractGeneration, ContractVersion, GenerationStatus
from app.db import transaction, utcnow
from app.quotes.services import get_quote
from app.terms.models import CgvPreview, VersionKind
from tests.factories.db import runtime, session_of


def first_version_asked(app: Flask, quote_id: int, author_id: int, *, free_text: str = "") -> int:
    """Version 1 of `quote_id`'s contract asked for through the service the web form calls,
    its job not run yet (as while it waits for a worker): the generation's id."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        return requested.ask_first_version(
            session,
            get_quote(session, quote_id),
            requested.Choices(author_id=author_id, free_text=free_text),
            vendor=rt.settings.vendor,
            now=utcnow(),
        ).id


def asked_too_long_ago(app: Flask, generation_id: int) -> None:
    """The generation asked `requested.LOST_AFTER` ago and more: the sweep takes its job for
    lost, and its page says it waits."""
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(ContractGeneration)
            .where(ContractGeneration.id == generation_id)
            .values(requested_at=utcnow() - requested.LOST_AFTER - timedelta(seconds=1))
        )


def pending_generation(app: Flask, contract_id: int, author_id: int) -> int:
    """A new version of `contract_id` asked for, waiting for its render (based on the latest);
    the one already waiting, if any."""
    with session_of(app) as session, session.begin():
        waiting = session.scalar(
            select(ContractGeneration.id).where(
                ContractGeneration.contract_id == contract_id,
                ContractGeneration.status == GenerationStatus.PENDING,
            )
        )
        if waiting is not None:  # one pending generation per contract: the same one again
            return waiting
        version = session.scalars(
            select(ContractVersion)
            .where(ContractVersion.contract_id == contract_id)
            .order_by(ContractVersion.version.desc())
        ).first()
        assert version is not None
        now = utcnow()
        row = ContractGeneration(
            first_version=False,
            contract_id=contract_id,
            based_on=version.version,
            author_id=author_id,
            clause_version_ids=[],
            free_text="",
            reason="Révision demandée",
            status=GenerationStatus.PENDING,
            requested_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def waiting_preview(app: Flask, author_id: int, *, label: str = "2099.1") -> int:
    """A CGV text in its preview, rendered (a stand-in PDF: only served back) and not published."""
    body = "# Article 1 : Objet\n\nLes présentes conditions s'appliquent.\n"
    with session_of(app) as session, session.begin():
        row = CgvPreview(
            label=label,
            title="Conditions générales de vente",
            effective_date=date(2099, 1, 1),
            kind=VersionKind.MINOR,
            summary="",
            body_markdown=body,
            sha256="0" * 64,
            source_format="markdown",
            source_filename=None,
            recovery_indemnity=Decimal("40.00"),
            created_by_id=author_id,
            created_at=utcnow(),
            pdf=b"%PDF-1.7\n% stand-in for the rendered preview\n",
            rendered_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return row.id
