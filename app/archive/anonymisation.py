"""Anonymising a client once its retention has ended: the contact's personal data on the
client row, and that of its signers and CGV acceptances once no evidence of it is kept.

Works in the caller's transaction and never commits (see `app.archive.purge`); a rerun
changes nothing more.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.models import Client
from app.contracts.models import Contract, ContractVersion
from app.documents import retention as rules
from app.documents.models import Document
from app.retention_settings import RetentionPolicy
from app.signatures.models import SignatureRequest, Signer
from app.terms.models import CgvAcceptance

ANONYMISED_NAME = "Contact supprimé"


def anonymisation_due(client: Client, policy: RetentionPolicy, today: date) -> bool:
    """The client's contact data goes once its other data's retention has ended."""
    if client.anonymised_at is not None or client.terminated_on is None:
        return False
    return rules.add_months(client.terminated_on, policy.client_data_months) < today


def anonymise_client(session: Session, client: Client, *, now: datetime, actor: str) -> None:
    """Replace the contact's personal data on the client row, which stays (company identity
    for the invoices kept by law). Signers and CGV acceptances are evidence: their personal
    data goes too once no signed contract or evidence file of the client is kept."""
    client.signer_name = ANONYMISED_NAME
    client.signer_email = f"supprime-{client.id}@anonyme.invalid"
    # with the company's name, a capacity (« Gérant ») still points at one person
    client.signer_title = None
    client.termination_reason = None
    client.anonymised_at = now
    evidence_kept = session.scalar(
        select(
            exists().where(
                Document.client_id == client.id,
                Document.purged_at.is_(None),
                Document.kind.in_(list(rules.CONTRACTUAL)),
            )
        )
    )
    anonymised_evidence = 0
    if not evidence_kept:
        anonymised_evidence = anonymise_evidence(session, client.id)
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.anonymised",
        details={"evidence_rows": anonymised_evidence, "evidence_kept": bool(evidence_kept)},
    )


def anonymise_evidence(session: Session, client_id: int) -> int:
    """Blank the personal data of the client's signers and CGV acceptances; return how many
    rows changed (0 on a rerun)."""
    changed = 0
    for acceptance in session.scalars(
        select(CgvAcceptance).where(CgvAcceptance.client_id == client_id)
    ):
        if acceptance.person_name != ANONYMISED_NAME:
            acceptance.person_name = ANONYMISED_NAME
            acceptance.person_email = "anonyme@anonyme.invalid"
            acceptance.ip = None
            acceptance.user_agent = None
            changed += 1
    signers = select(Signer).join(SignatureRequest).join(ContractVersion).join(Contract)
    for signer in session.scalars(signers.where(Contract.client_id == client_id)):
        if signer.name != ANONYMISED_NAME:
            signer.name = ANONYMISED_NAME
            signer.email = "anonyme@anonyme.invalid"
            signer.ip = None
            signer.user_agent = None
            changed += 1
    return changed
