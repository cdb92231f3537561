"""The CGV workflows, run as the background-jobs queue will run them: twice, in chunks, with a
mail server that fails. Publishing the same text again changes nothing; notifying again mails
nobody already mailed; a mail that failed is sent by the next run, with a working link; the
mail links to the archived PDF and never carries the whole text."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header

from flask import Flask
from sqlalchemy import select, update

from app.clients.models import Client, ClientStatus
from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.mail import Mailer, MailError, OutgoingMail
from app.terms import planning, workflow
from app.terms.models import CgvNotification, CgvVersion, VersionKind
from app.terms.planning import CLAIM_LEASE
from app.terms.versions import CgvDraft
from app.tokens import token_hash
from tests.factories import runtime
from tests.factories.db import count, session_of
from tests.factories.sales import make_client
from tests.integration.helpers import body_text, deliver_queued_mails, outbox_messages

NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
BODY = (
    "# CGV\n\n## Article 1. Objet\n\nLe service est fourni tel que décrit en annexe.\n\n"
    "## Article 2. Prix\n\nCent vingt euros par mois, payables d'avance.\n"
)


def _draft(kind: VersionKind = VersionKind.MATERIAL) -> CgvDraft:
    return CgvDraft(
        label="2.0",
        title="Conditions générales de vente",
        effective_date=date(2024, 4, 1),
        body_markdown=BODY,
        summary="Hausse du prix mensuel.",
        kind=kind,
    )


def _subject(message: object) -> str:
    return str(make_header(decode_header(message["Subject"])))  # type: ignore[index]


def test_notifying_twice_mails_each_client_once_with_a_link_not_the_text(app: Flask) -> None:
    make_client(app)
    make_client(app, signer_email="yann@example.fr")
    c = runtime(app).collaborators(NOW)
    vendor = c.settings.vendor.legal_name

    publication = workflow.publish_version(c, _draft(), actor="test")
    assert publication.created and publication.version.document_id is not None
    again = workflow.publish_version(c, _draft(), actor="test")
    assert not again.created and again.version.id == publication.version.id
    assert count(app, CgvVersion) == 1
    assert count(app, Document, Document.kind == DocumentKind.CGV) == 1

    version_id = publication.version.id
    assert workflow.notify(c, version_id) == workflow.Notified(sent=2)
    assert workflow.notify(c, version_id) == workflow.Notified(sent=0)

    mails = outbox_messages(c.settings.outbox_dir)
    assert sorted(m["To"] for m in mails) == ["yann@example.fr", "zoe@example.fr"]
    assert count(app, CgvNotification) == 2
    for message in mails:
        text = body_text(message)
        assert "/cgv/2.0.pdf" in text and "Hausse du prix mensuel." in text
        assert "/cgv/accepter/" in text  # material: a personal acceptance link
        assert "Cent vingt euros par mois" not in text and "Article 2. Prix" not in text
        assert f"{vendor} publie la version 2.0" in text
        assert vendor in _subject(message) and "2.0" in _subject(message)


class _RefusingMailer:
    """A mail server that refuses one address and delivers the others."""

    def __init__(self, inner: Mailer, refused: str) -> None:
        self.inner, self.refused = inner, refused

    def send(self, mail: OutgoingMail) -> None:
        if mail.to == self.refused:
            raise MailError("boîte pleine")
        self.inner.send(mail)


def test_a_mail_that_failed_leaves_with_the_next_run_and_its_link_works(app: Flask) -> None:
    make_client(app)
    make_client(app, signer_email="yann@example.fr")
    make_client(app, signer_email="ines@example.fr")
    c = runtime(app).collaborators(NOW)
    version_id = workflow.publish_version(c, _draft(), actor="test").version.id
    rt = runtime(app)
    working = rt.transport
    # The mail server refuses one address: its mail stays in the outbox, for the next attempt.
    rt.transport = _RefusingMailer(working, "yann@example.fr")
    try:
        # notified = written to the outbox in the stamping transaction (chunks of two)
        assert workflow.notify(c, version_id, limit=2) == workflow.Notified(sent=2)
    finally:
        rt.transport = working
    assert sorted(m["To"] for m in outbox_messages(c.settings.outbox_dir)) == ["zoe@example.fr"]
    assert deliver_queued_mails(app) == 1  # the refused mail, delivered on its next attempt
    assert workflow.notify(c, version_id, limit=2) == workflow.Notified(sent=1)
    assert workflow.notify(c, version_id, limit=2) == workflow.Notified(sent=0)

    mails = outbox_messages(c.settings.outbox_dir)
    assert sorted(m["To"] for m in mails) == [
        "ines@example.fr",
        "yann@example.fr",
        "zoe@example.fr",
    ]
    retried = next(m for m in mails if m["To"] == "yann@example.fr")
    match = re.search(r"/cgv/accepter/([A-Za-z0-9_\-]+)", body_text(retried))
    assert match is not None
    with session_of(app) as session:
        notification = session.scalars(
            select(CgvNotification).where(CgvNotification.email == "yann@example.fr")
        ).one()
        assert notification.link_token_hash == token_hash(match.group(1))
        assert notification.sent_at == NOW


def test_a_claimed_notification_is_left_to_its_job_until_its_lease_ends(app: Flask) -> None:
    client_id = make_client(app)
    c = runtime(app).collaborators(NOW)
    version = workflow.publish(c, _draft(), actor="test")
    assert workflow.plan_notifications(c, version.id) == [[client_id]]
    # Another job claimed it (its mail is leaving, or it was killed doing so).
    with transaction(c.session_factory) as session:
        claimed = planning.claim_notices(
            session,
            version,
            [client_id],
            base_url=c.settings.base_url,
            vendor_name=c.settings.vendor.legal_name,
            link_days=30,
            now=NOW,
        )
    assert len(claimed) == 1

    assert workflow.notify_clients(c, version.id, [client_id]) == workflow.Notified(0)
    assert workflow.plan_notifications(c, version.id) == []  # nothing left to hand out
    assert workflow.sweep(c).chunks == []  # a live claim is not resumed
    assert outbox_messages(c.settings.outbox_dir) == []

    # Past the lease, the claim is a dead job's: the sweep frees it and hands it out again.
    later = dataclasses.replace(c, now=NOW + CLAIM_LEASE + timedelta(minutes=1))
    assert workflow.sweep(later).chunks == [(version.id, [client_id])]
    assert workflow.notify_clients(later, version.id, [client_id]) == workflow.Notified(1)
    assert workflow.notify_clients(later, version.id, [client_id]) == workflow.Notified(0)
    assert [m["To"] for m in outbox_messages(c.settings.outbox_dir)] == ["zoe@example.fr"]


def test_the_sweep_fans_out_a_form_publication_never_a_command_line_one(app: Flask) -> None:
    make_client(app)
    c = runtime(app).collaborators(NOW)
    from_cli = workflow.publish_version(c, _draft(), actor="cli").version
    draft = dataclasses.replace(_draft(), label="2.1", effective_date=date(2024, 5, 1))
    from_form = workflow.publish(c, draft, actor="test")

    assert workflow.sweep(c).fan_outs == [from_form.id]  # its fan-out job was lost
    assert workflow.plan_notifications(c, from_form.id) != []
    assert workflow.sweep(c).fan_outs == []
    with session_of(app) as session:
        assert planning.progress_of(session, [from_cli.id, from_form.id], NOW.date()) == {
            from_cli.id: planning.Progress(0, 0, 0, planned=True),
            from_form.id: planning.Progress(0, 1, 1, planned=True),
        }


def test_a_client_whose_termination_is_still_ahead_is_told_one_already_gone_is_not(
    app: Flask,
) -> None:
    # Built around NOW (1 March 2024): "ahead" ends tomorrow, "gone" ended today.
    ahead = make_client(app, signer_email="ahead@example.fr")
    gone = make_client(app, signer_email="gone@example.fr")
    make_client(app, signer_email="still@example.fr")
    today = NOW.date()
    with transaction(runtime(app).session_factory) as session:
        for client_id, on in ((ahead, today + timedelta(days=1)), (gone, today)):
            session.execute(
                update(Client)
                .where(Client.id == client_id)
                .values(status=ClientStatus.TERMINATED, terminated_on=on)
            )
    c = runtime(app).collaborators(NOW)
    version_id = workflow.publish_version(c, _draft(), actor="test").version.id
    with session_of(app) as session:
        assert planning.pending_clients(session, version_id, NOW) == []
    workflow.plan_notifications(c, version_id)
    with session_of(app) as session:
        assert planning.progress_of(session, [version_id], today) == {
            version_id: planning.Progress(0, 2, 2, planned=True)
        }

    assert workflow.notify(c, version_id) == workflow.Notified(sent=2)
    mailed = sorted(m["To"] for m in outbox_messages(c.settings.outbox_dir))
    assert mailed == ["ahead@example.fr", "still@example.fr"]
