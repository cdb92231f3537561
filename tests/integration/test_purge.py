"""The retention purge: only what passed its retention goes, with a certificate that lists it,
a journal that records it, and nothing more on a rerun or after a crash."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app.archive import tasks as archive_tasks
from app.archive.jobs import PurgeReport, run_purge
from app.archive.services import retention as archive
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.clients.models import Client
from app.clock import business_date
from app.config import Settings
from app.db import transaction, utcnow
from app.documents import services as documents
from app.documents.models import Document, DocumentKind
from app.mail import MailError, OutgoingMail
from app.runtime import Runtime
from tests.conftest import sealing_around
from tests.factories import deposit_file, make_client
from tests.factories.archive import terminate_in_archive
from tests.integration.helpers import outbox_messages, store_clock_at

DEPOSIT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TERMINATED = date(2026, 6, 30)


def _deposit(
    app: Flask, client_id: int, kind: DocumentKind, reference: str, now: datetime
) -> tuple[int, str]:
    document = deposit_file(app, client_id, kind, reference, now=now)
    return document.id, document.sha256


def _setup(
    app: Flask, deposit: datetime = DEPOSIT, terminated: date = TERMINATED
) -> dict[str, tuple[int, str]]:
    client_id = make_client(app)
    docs = {
        "invoice": _deposit(app, client_id, DocumentKind.INVOICE, "FAC-2026-0001", deposit),
        "signed": _deposit(app, client_id, DocumentKind.SIGNED_CONTRACT, "CTR-2026-0001", deposit),
        "contract": _deposit(app, client_id, DocumentKind.CONTRACT, "CTR-2026-0001", deposit),
        "quote": _deposit(app, client_id, DocumentKind.QUOTE, "DEV-2026-0001", deposit),
        "held": _deposit(app, client_id, DocumentKind.QUOTE, "DEV-2026-0002", deposit),
    }
    rt = app.extensions["paraphe"]
    terminate_in_archive(app, client_id, on=terminated, now=deposit)
    with transaction(rt.session_factory) as session:
        held = documents.get_document(session, docs["held"][0])
        archive.set_legal_hold(
            session,
            rt.store,
            held,
            hold=True,
            reason="Contentieux en cours",
            actor="test",
            now=deposit,
        )
    return docs


def _purge(app: Flask, today: str, rt: Runtime | None = None) -> PurgeReport:
    """Run the purge job on `today` with the app's collaborators, or with `rt`'s."""
    day = date.fromisoformat(today)
    now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    runtime = store_clock_at(rt or app.extensions["paraphe"], now)
    return run_purge(runtime, today=day, now=now, dry_run=False)


def _exists(app: Flask, sha256: str) -> bool:
    return bool(app.extensions["paraphe"].store.exists(sha256))


def _certificate_text(app: Flask, certificate_id: int) -> str:
    rt = app.extensions["paraphe"]
    with transaction(rt.session_factory) as session:
        certificate = session.get(Document, certificate_id)
        assert certificate is not None and certificate.kind is DocumentKind.DELETION_CERTIFICATE
        pdf = rt.store.get(certificate.sha256)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def _purged_events(app: Flask) -> list[str]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return list(
            session.scalars(
                select(AuditEvent.subject_id)
                .where(AuditEvent.action == "document.purged")
                .order_by(AuditEvent.id)
            )
        )


def test_purge_waves_follow_retention(app: Flask) -> None:
    docs = _setup(app)
    outbox = app.extensions["paraphe"].settings.outbox_dir

    dry = run_purge(
        app.extensions["paraphe"],
        today=date(2027, 1, 5),
        now=datetime(2027, 1, 5, tzinfo=UTC),
        dry_run=True,
    )
    assert sorted(d[0] for d in dry.due) == sorted([docs["contract"][0], docs["quote"][0]])
    assert _purged_events(app) == [] and all(_exists(app, sha) for _, sha in docs.values())

    # 30 December 2026 is the last day of the 6 months: still kept.
    assert _purge(app, "2026-12-30").deleted == []

    first = _purge(app, "2027-01-05")
    assert sorted(i.document_id for i in first.deleted) == sorted(
        [docs["contract"][0], docs["quote"][0]]
    )
    assert not _exists(app, docs["contract"][1]) and not _exists(app, docs["quote"][1])
    for kept in ("invoice", "signed", "held"):
        assert _exists(app, docs[kept][1])
    [(certificate_id, reference)] = first.certificates
    text = _certificate_text(app, certificate_id)
    assert reference in text and "DEV-2026-0001" in text and "CTR-2026-0001" in text
    for name in ("contract", "quote"):
        assert docs[name][1][:40] in text.replace(" ", "")
    assert "FAC-2026-0001" in text and "10 ans après la clôture" in text  # kept, and why
    assert "Contentieux en cours" in text  # the legal hold is why DEV-2026-0002 stays
    spaced = re.sub(r"\s+", " ", text)  # pypdf gives the no-break spaces as it finds them
    assert "(SIREN 732 829 320)" in spaced and ", SIREN 552 100 554" in spaced  # grouped
    [message] = outbox_messages(outbox)
    assert message["To"] == "zoe@example.fr"
    attachments = [p for p in message.walk() if p.get_filename()]
    assert [p.get_filename() for p in attachments] == [f"{reference}.pdf"]
    attached = attachments[0].get_payload(decode=True)
    assert isinstance(attached, bytes) and attached.startswith(b"%PDF")
    with transaction(app.extensions["paraphe"].session_factory) as session:
        client = session.scalars(select(Client)).one()
        assert client.anonymised_at is not None and "zoe" not in client.signer_email
        assert client.legal_name == "Boulangerie Lefèvre & Fils"  # company identity stays
    assert sorted(_purged_events(app)) == sorted([str(docs["contract"][0]), str(docs["quote"][0])])

    rerun = _purge(app, "2027-01-05")
    assert rerun.deleted == [] and rerun.certificates == [] and rerun.emailed == []
    assert len(outbox_messages(outbox)) == 1

    # Five years after the contract ended: the signed contract goes, the invoice stays.
    second = _purge(app, "2031-07-01")
    assert [i.document_id for i in second.deleted] == [docs["signed"][0]]
    [(second_id, _ref)] = second.certificates
    assert "CTR-2026-0001" in _certificate_text(app, second_id)
    assert len(outbox_messages(outbox)) == 1  # the contact is anonymised: archived only

    third = _purge(app, "2037-01-01")
    assert [i.document_id for i in third.deleted] == [docs["invoice"][0]]
    assert _exists(app, docs["held"][1])  # held forever, until the hold is lifted
    assert _purge(app, "2037-01-01").deleted == []

    with transaction(app.extensions["paraphe"].session_factory) as session:
        assert audit.verify_chain(session) == []
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        "document.purged",
        "client.deletion_certificate_issued",
        "deletion_certificate.sent",
        "client.anonymised",
    } <= actions


class _FailingMailer:
    def send(self, mail: OutgoingMail) -> None:
        raise MailError("serveur SMTP injoignable")


def test_purge_resumes_after_a_crash(app: Flask) -> None:
    docs = _setup(app)
    rt = app.extensions["paraphe"]
    outbox = rt.settings.outbox_dir
    # A crash after the blob was deleted but before the row was marked: the blob is gone.
    store_clock_at(rt, datetime(2027, 1, 5, 3, 0, tzinfo=UTC)).store.delete(docs["quote"][1])
    with pytest.raises(MailError):  # dies after the certificate, before the email
        _purge(app, "2027-01-05", replace(rt, mailer=_FailingMailer()))
    assert not outbox.exists() or outbox_messages(outbox) == []

    resumed = _purge(app, "2027-01-05")
    assert resumed.deleted == [] and resumed.certificates == []  # nothing more deleted
    [message] = outbox_messages(outbox)
    assert message["To"] == "zoe@example.fr"
    assert sorted(_purged_events(app)) == sorted([str(docs["contract"][0]), str(docs["quote"][0])])
    with transaction(rt.session_factory) as session:
        quote = session.get(Document, docs["quote"][0])
        assert quote is not None and quote.purged_at is not None
        assert quote.purge_certificate_id is not None
        assert session.scalars(select(Client)).one().anonymised_at is not None


def test_purge_command_dry_run_changes_nothing(app: Flask) -> None:
    # Without --as-of the command purges as of the real date: the client ends its contract
    # today, so that nothing is due today whatever the date the suite runs on.
    now = utcnow()
    _setup(app, deposit=now, terminated=business_date(now))
    later = (business_date(now) + timedelta(days=200)).isoformat()  # past the 6 months
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "purge", "--dry-run", "--as-of", later])
    assert result.exit_code == 0, result.output
    assert result.output.count("À SUPPRIMER") == 2 and "À ANONYMISER" in result.output
    assert "\n2\u00a0documents, 1\u00a0client, " in result.output  # real plurals, no « (s) »
    assert _purged_events(app) == []
    refused = runner.invoke(args=["jobs", "purge", "--as-of", later])
    assert refused.exit_code == 2
    today = runner.invoke(args=["jobs", "purge"])
    assert today.exit_code == 0 and "0\u00a0document supprimé" in today.output


PURGE_NIGHT = datetime(2027, 1, 5, 3, 0, tzinfo=UTC)  # past TERMINATED's six months


@time_machine.travel(PURGE_NIGHT, tick=False)
def test_the_daily_job_logs_what_it_deleted_and_certified(
    settings: Settings,
    tmp_path: Path,
    make_app: Callable[[Settings], Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The operator reads the nightly purge in the worker's log: counts in words, with their
    real plural (two documents of the client are past their retention, one certificate).
    The job reads the clock itself, so the clock is moved; the seal that signs the deletion
    certificate is made around that night, not around the real date."""
    app = make_app(sealing_around(settings, tmp_path, PURGE_NIGHT))
    _setup(app)
    with caplog.at_level(logging.INFO, logger="app.archive.tasks"), app.app_context():
        archive_tasks.purge.run()
        archive_tasks.purge.run()  # the next night: nothing more
    said = [r.getMessage() for r in caplog.records if r.name == "app.archive.tasks"]
    assert said == [
        "2\u00a0documents supprimés, 1\u00a0certificat émis",
        "0\u00a0document supprimé, 0\u00a0certificat émis",
    ]
