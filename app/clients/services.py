"""Creating, finding and terminating clients."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients import rules
from app.clients.errors import (
    ClientAlreadyTerminated,
    ClientChanged,
    ClientDuplicate,
    ClientInvalid,
    ClientNotFound,
)
from app.clients.models import Client, ClientStatus
from app.events import recording as events
from app.events.recording import Resource
from app.messages import Day, msg
from app.plaintext import text_problem
from app.printable import MAX_CAPACITY, capacity_problem, unprintable_character_problem


@dataclass(frozen=True)
class ClientInput:
    legal_name: str
    siren: str
    vat_number: str
    address: str
    postal_code: str
    city: str
    signer_name: str
    signer_email: str
    # ISO 3166-1 alpha-2; another EU member state (rules.EU_COUNTRIES) makes the VAT number
    # required and checked for that state, and the SIREN optional ("" when there is none).
    country: str = "FR"
    # The signer's capacity (« Présidente », « Gérant »...); optional, printed as typed.
    signer_title: str = ""


_LIMITS = {
    "legal_name": 200,
    "address": 300,
    "postal_code": 10,
    "city": 100,
    "signer_name": 200,
}
MAX_SIGNER_TITLE = MAX_CAPACITY


def validate(data: ClientInput) -> ClientInput:
    """Return the normalised input, or raise ClientInvalid with every problem at once."""
    errors: dict[str, str] = {}
    for name, limit in _LIMITS.items():
        value = getattr(data, name).strip()
        if not value:
            errors[name] = msg("Ce champ est obligatoire.")
        elif len(value) > limit:
            errors[name] = msg("{limit} caractères au maximum.", limit=limit)
        # a character the PDF fonts lack would print as an empty box: refused, named (the
        # postal code has its own format rule below, which says what is expected instead)
        elif problem := text_problem(value) or (
            unprintable_character_problem(value) if name != "postal_code" else None
        ):
            errors[name] = problem
    country = data.country.strip().upper()
    if country not in rules.EU_COUNTRIES:
        errors["country"] = msg("Pays non pris en charge : la France ou un autre État de l'UE.")
    siren = rules.normalise_siren(data.siren)
    if country == "FR" and not siren:
        errors["siren"] = msg("Ce champ est obligatoire.")
    elif (country == "FR" or siren) and not rules.is_valid_siren(siren):
        errors["siren"] = rules.SIREN_INVALID
    vat = rules.normalise_vat(data.vat_number)
    if country == "FR":
        known_siren = None if "siren" in errors else siren
        if vat and (problem := rules.vat_problem(vat, known_siren)):
            errors["vat_number"] = problem
    elif "country" not in errors:
        if not vat:
            errors["vat_number"] = msg(
                "Obligatoire pour un client d'un autre État de l'UE (autoliquidation de la TVA)."
            )
        elif problem := rules.eu_vat_problem(vat, country):
            errors["vat_number"] = problem
    postal_code = rules.normalise_postal_code(data.postal_code, country)
    if (
        "postal_code" not in errors
        and "country" not in errors
        and (
            problem := rules.postal_code_problem(postal_code, country)
            # some countries' formats say only "digits", which non-Latin digits also are
            or unprintable_character_problem(postal_code)
        )
    ):
        errors["postal_code"] = problem
    email, problem = normalise_email(data.signer_email)
    if problem:
        errors["signer_email"] = problem
    if problem := signer_title_problem(data.signer_title):
        errors["signer_title"] = problem
    if errors:
        raise ClientInvalid(errors)
    return ClientInput(
        legal_name=data.legal_name.strip(),
        siren=siren,
        vat_number=vat,
        address=data.address.strip(),
        postal_code=postal_code,
        city=data.city.strip(),
        signer_name=data.signer_name.strip(),
        signer_email=email,
        country=country,
        signer_title=data.signer_title.strip(),
    )


def signer_title_problem(value: str) -> str | None:
    """What is wrong with a signer's capacity, or None (`app.printable.capacity_problem`)."""
    return capacity_problem(value)


def normalise_email(value: str) -> tuple[str, str | None]:
    """The address as it will be stored and mailed, and what is wrong with it if anything."""
    email = value.strip()
    try:
        return validate_email(
            email, check_deliverability=False, allow_smtputf8=False
        ).normalized, None
    except EmailNotValidError:
        if not email.split("@")[0].isascii():
            return email, msg(
                "Adresse e-mail invalide (ex. prenom.nom@entreprise.fr). "
                "Les caractères accentués ne sont pas acceptés avant le @."
            )
        return email, msg("Adresse e-mail invalide (ex. prenom.nom@entreprise.fr).")


def create_client(
    session: Session,
    data: ClientInput,
    *,
    actor: str,
    now: datetime,
    created_by_id: int | None = None,
    confirm_duplicate: bool = False,
) -> Client:
    """`confirm_duplicate`: the user saw the clients with the same SIREN (ClientDuplicate) and
    creates another contracting entity all the same; the journal keeps which ones it saw."""
    clean = validate(data)
    duplicates = same_company(session, clean)
    if duplicates and not confirm_duplicate:
        raise ClientDuplicate(duplicates, key="SIREN" if clean.siren else "numéro de TVA")
    client = Client(
        legal_name=clean.legal_name,
        siren=clean.siren,
        vat_number=clean.vat_number or None,
        address=clean.address,
        postal_code=clean.postal_code,
        city=clean.city,
        country=clean.country,
        signer_name=clean.signer_name,
        signer_email=clean.signer_email,
        signer_title=clean.signer_title or None,
        status=ClientStatus.ACTIVE,
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(client)
    session.flush()
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.created",
        details={"same_company_as": [c.id for c in duplicates]} if duplicates else None,
    )
    return client


def input_of(client: Client) -> ClientInput:
    """The client's current data, as a form or an API update starts from."""
    return ClientInput(
        legal_name=client.legal_name,
        siren=client.siren,
        vat_number=client.vat_number or "",
        address=client.address,
        postal_code=client.postal_code,
        city=client.city,
        signer_name=client.signer_name,
        signer_email=client.signer_email,
        country=client.country,
        signer_title=client.signer_title or "",
    )


def update_client(
    session: Session,
    client: Client,
    data: ClientInput,
    *,
    actor: str,
    now: datetime,
    confirm_duplicate: bool = False,
    revisions: Collection[int] | None = None,
) -> list[str]:
    """The client's identity or signer corrected, with the checks of its creation. Documents
    already produced keep what they printed; the journal keeps which fields changed.

    `revisions`: those the edit may start from (the form's one, an API's If-Match); another
    one means someone changed the record since it was read, and the edit is refused
    (ClientChanged). None: no condition. For the check to hold against a concurrent edit,
    `client` comes from `get_client(..., for_update=True)`.

    Returns the names of the fields that changed: none, nothing is journaled."""
    check_editable(client)
    check_revision(client, revisions)
    clean = validate(data)
    before = input_of(client)
    duplicates = [c for c in same_company(session, clean) if c.id != client.id]
    company_changed = (clean.siren, clean.vat_number) != (before.siren, before.vat_number)
    if duplicates and company_changed and not confirm_duplicate:
        raise ClientDuplicate(duplicates, key="SIREN" if clean.siren else "numéro de TVA")
    changed = sorted(
        name
        for name in ClientInput.__dataclass_fields__
        if getattr(clean, name) != getattr(before, name)
    )
    client.legal_name = clean.legal_name
    client.siren = clean.siren
    client.vat_number = clean.vat_number or None
    client.address = clean.address
    client.postal_code = clean.postal_code
    client.city = clean.city
    client.country = clean.country
    client.signer_name = clean.signer_name
    client.signer_email = clean.signer_email
    client.signer_title = clean.signer_title or None
    if changed:
        audit.record_about_client(
            session,
            client.id,
            now=now,
            actor=actor,
            action="client.updated",
            details={"fields": changed},
        )
    return changed


def check_revision(client: Client, revisions: Collection[int] | None) -> None:
    """Raise ClientChanged when the client is at none of `revisions` (None: no condition)."""
    if revisions is not None and client.revision not in revisions:
        raise ClientChanged(
            msg(
                "La fiche du client n° {client_id} a été modifiée entre-temps par quelqu'un "
                "d'autre : relisez-la, puis refaites vos corrections.",
                client_id=client.id,
            ),
            revision=client.revision,
        )


def check_editable(client: Client) -> None:
    """Raise ClientAlreadyTerminated for a terminated client: its data no longer change (the
    edit page refuses to open, as the update itself would)."""
    if client.status is ClientStatus.TERMINATED:
        raise ClientAlreadyTerminated(
            msg(
                "Le client n° {client_id} est résilié : ses données ne changent plus.",
                client_id=client.id,
            )
        )


def same_company(session: Session, data: ClientInput) -> list[Client]:
    """The clients with this SIREN, or for a client without one, this VAT number."""
    return clients_with(session, siren=data.siren, vat_number=data.vat_number)


def clients_with(session: Session, *, siren: str = "", vat_number: str = "") -> list[Client]:
    """The clients with this (normalised) SIREN, or when none is given, this VAT number; the
    oldest first. Nothing to compare: none."""
    if siren:
        where = Client.siren == siren
    elif vat_number:
        where = Client.vat_number == vat_number
    else:
        return []
    return list(session.scalars(select(Client).where(where).order_by(Client.id)))


def get_client(session: Session, client_id: int, *, for_update: bool = False) -> Client:
    """`for_update`: read afresh and locked until the transaction ends (PostgreSQL; SQLite's
    write lock already serialises), for an edit checked against the record's revision: a
    concurrent one waits, then sees the revision this one made."""
    client = find_client(session, client_id)
    if client is None:
        raise ClientNotFound(msg("Client n° {client_id} introuvable.", client_id=client_id))
    if for_update:
        lock(session, client)
    return client


def lock(session: Session, client: Client) -> None:
    """Lock the client's row until the transaction ends, and read it afresh. Every change to
    the row bumps its revision and fails (StaleDataError) when the row moved on since it was
    read: a change that first waits here starts from the latest row instead. A refresh, not a
    locking get: a get would take the newer revision it finds for a stale copy and fail."""
    session.refresh(client, with_for_update=True)


def find_client(session: Session, client_id: int) -> Client | None:
    """The client, or None where its absence is not an error (a contact to mail if any)."""
    return session.get(Client, client_id)


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.legal_name)))


def terminate(
    session: Session, client: Client, *, on: date, reason: str, actor: str, now: datetime
) -> Client:
    lock(session, client)  # a second termination at once then sees the first one
    if client.status is ClientStatus.TERMINATED:
        raise ClientAlreadyTerminated(
            msg(
                "La résiliation du client n° {client_id} est déjà enregistrée (au "
                "{terminated_on}).",
                client_id=client.id,
                terminated_on=Day(client.terminated_on) if client.terminated_on else "?",
            )
        )
    if len(reason) > 2000:
        raise ClientInvalid({"reason": msg("2 000 caractères au maximum.")})
    client.status = ClientStatus.TERMINATED
    client.terminated_on = on
    client.termination_reason = reason.strip() or None
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.terminated",
        details={"on": on.isoformat(), "reason": client.termination_reason},
    )
    events.record(
        session,
        "client.terminated",
        Resource("client", client.id, f"/api/v1/clients/{client.id}/cgv"),
        {"terminated_on": on.isoformat()},
        now=now,
    )
    return client
