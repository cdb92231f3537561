"""Billing contacts: the addresses a client's invoices and credit notes are mailed to, edited
by sales on the client's page and by the client in its space. Every change is journaled with
who made it; a contact is deactivated, never deleted (the mails already sent name it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.errors import BillingContactNotFound, ClientInvalid
from app.clients.models import BillingContact, Client
from app.clients.services import lock, normalise_email
from app.messages import msg
from app.plaintext import text_problem
from app.printable import unprintable_character_problem

NAME_LIMIT = 200


@dataclass(frozen=True)
class ContactInput:
    name: str
    email: str
    active: bool = True


def validate_contact(data: ContactInput) -> ContactInput:
    """The normalised input, or ClientInvalid naming every field at fault at once."""
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = msg("Ce champ est obligatoire.")
    elif len(name) > NAME_LIMIT:
        errors["name"] = msg("{name_limit} caractères au maximum.", name_limit=NAME_LIMIT)
    elif problem := text_problem(name) or unprintable_character_problem(name):
        errors["name"] = problem
    email, problem = normalise_email(data.email)
    if not data.email.strip():
        errors["email"] = msg("Ce champ est obligatoire.")
    elif problem:
        errors["email"] = problem
    if errors:
        raise ClientInvalid(errors)
    # Lower case: one address, one row (the unique key then holds it, even for two
    # submissions at once); no mail server of a billing department tells cases apart.
    return ContactInput(name=name, email=email.lower(), active=data.active)


def contacts_of(session: Session, client_id: int) -> Sequence[BillingContact]:
    return session.scalars(
        select(BillingContact)
        .where(BillingContact.client_id == client_id)
        .order_by(BillingContact.id)
    ).all()


def active_contacts(session: Session, client_id: int) -> Sequence[BillingContact]:
    return [contact for contact in contacts_of(session, client_id) if contact.active]


def get_contact(session: Session, client_id: int, contact_id: int) -> BillingContact:
    """The contact, only if it belongs to `client_id` (a client's space never reaches
    another client's contact: the same answer as a contact that does not exist)."""
    contact = session.get(BillingContact, contact_id)
    if contact is None or contact.client_id != client_id:
        raise BillingContactNotFound(
            msg("Contact de facturation n° {contact_id} introuvable.", contact_id=contact_id)
        )
    return contact


TAKEN = {"email": "Cette adresse est déjà un contact de facturation."}


def _taken(session: Session, client_id: int, email: str, other_than: int | None) -> bool:
    where = [BillingContact.client_id == client_id, BillingContact.email == email]
    if other_than is not None:
        where.append(BillingContact.id != other_than)
    return session.scalar(select(func.count()).select_from(BillingContact).where(*where)) != 0


def _flush_unique(session: Session) -> None:
    """Flush; the unique (client, address) key refusing a row added at the same moment by
    another submission (a double click) is the same field error as the check before it."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ClientInvalid(TAKEN) from exc


def add_contact(
    session: Session, client: Client, data: ContactInput, *, now: datetime, actor: str
) -> BillingContact:
    clean = validate_contact(data)
    if _taken(session, client.id, clean.email, None):
        raise ClientInvalid(TAKEN)
    contact = BillingContact(
        client_id=client.id,
        name=clean.name,
        email=clean.email,
        active=clean.active,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    _flush_unique(session)
    _journal(session, contact, "billing_contact.added", now=now, actor=actor)
    return contact


def update_contact(
    session: Session, contact: BillingContact, data: ContactInput, *, now: datetime, actor: str
) -> BillingContact:
    clean = validate_contact(data)
    if _taken(session, contact.client_id, clean.email, contact.id):
        raise ClientInvalid(TAKEN)
    before = {"name": contact.name, "email": contact.email, "active": contact.active}
    contact.name, contact.email, contact.active = clean.name, clean.email, clean.active
    contact.updated_at = now
    _flush_unique(session)
    _journal(session, contact, "billing_contact.updated", now=now, actor=actor, before=before)
    return contact


def set_invoices_by_email(
    session: Session, client: Client, enabled: bool, *, now: datetime, actor: str
) -> None:
    lock(session, client)  # a double click then finds the setting already made
    if client.send_invoices_by_email == enabled:
        return
    client.send_invoices_by_email = enabled
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.invoices_by_email_changed",
        details={"enabled": enabled},
    )


def _journal(
    session: Session,
    contact: BillingContact,
    action: str,
    *,
    now: datetime,
    actor: str,
    before: dict[str, object] | None = None,
) -> None:
    details: dict[str, object] = {
        "name": contact.name,
        "email": contact.email,
        "active": contact.active,
    }
    if before is not None:
        details["before"] = before
    audit.record_about(
        session,
        "billing_contact",
        contact,
        now=now,
        actor=actor,
        action=action,
        details=details,
    )
