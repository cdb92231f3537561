"""Where the demo's signing invitation is, printed by `paraphe demo`: the evaluator opens it
and signs from its link (on a phone, as a client would).

The invitation is the outbox row the sending workflow wrote; its delivery job is queued for
the worker, which `.ci/start` launches only after the demo. The job's function is run here
instead, once (a row already sent is left alone, so the queued job then finds nothing to do),
so that the file exists when its path is printed. The file is the one that carries the row's
Message-ID: the same line at every start, found from the database and not from a note kept
beside it."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import select

from app.db import transaction
from app.mail import MailError
from app.mail.models import MailStatus, OutgoingMailRecord
from app.mail.tasks import deliver_mail
from app.messages import msg
from app.runtime import Collaborators
from app.signatures.revisions import requests_for_contract


def invitation_line(c: Collaborators, contract_id: int) -> str | None:
    """Where the invitation of the contract's first request went; None before it is sent."""
    with transaction(c.session_factory) as session:
        requests = requests_for_contract(session, contract_id)
        if not requests:
            return None
        first = requests[-1]  # the latest first: the demo's is the oldest
        signer = first.contract_version.signer_email
        mail = session.scalar(
            select(OutgoingMailRecord)
            .where(
                OutgoingMailRecord.recipient == signer,
                OutgoingMailRecord.created_at >= first.created_at,
            )
            .order_by(OutgoingMailRecord.id)
            .limit(1)
        )
        found = None if mail is None else (mail.id, mail.message_id, mail.status)
    if found is None:
        return _sent_to(signer)
    mail_id, message_id, status = found
    if status is MailStatus.PENDING:
        try:
            deliver_mail.run(mail_id)
        except MailError as exc:  # the server refused it for now: the worker retries
            return msg(
                "Invitation à signer le contrat de démonstration : pas encore partie "
                "({problem}) ; le service des travaux la renverra.",
                problem=str(exc),
            )
    if status is MailStatus.FAILED:
        return msg(
            "Invitation à signer le contrat de démonstration : son envoi a échoué, renvoyez-la "
            "depuis la page du contrat."
        )
    if c.settings.smtp_url is not None:
        return _sent_to(signer)
    path = _outbox_file(c.settings.outbox_dir, message_id)
    if path is None:  # a worker already running took the row: it writes the file
        return msg(
            "Invitation à signer le contrat de démonstration : bientôt dans {outbox}",
            outbox=str(c.settings.outbox_dir),
        )
    return msg("Invitation à signer le contrat de démonstration : {path}", path=str(path))


def _sent_to(signer: str) -> str:
    return msg(
        "Invitation à signer le contrat de démonstration : envoyée à {signer}", signer=signer
    )


def _outbox_file(outbox: Path, message_id: str) -> Path | None:
    """The .eml file of the message, if it is in the outbox folder."""
    parser = BytesHeaderParser()
    for path in sorted(outbox.glob("*.eml")):
        with path.open("rb") as fh:
            if parser.parse(fh).get("Message-ID", "").strip() == message_id.strip():
                return path
    return None
