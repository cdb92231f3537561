"""Creating, finding and terminating clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients import rules
from app.clients.errors import ClientAlreadyTerminated, ClientInvalid, ClientNotFound
from app.clients.models import Client, ClientStatus
from app.plaintext import control_character_problem
from app.printable import unprintable_character_problem
from app.rendering.french import format_date


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


_LIMITS = {
    "legal_name": 200,
    "address": 300,
    "postal_code": 10,
    "city": 100,
    "signer_name": 200,
}


def validate(data: ClientInput) -> ClientInput:
    """Return the normalised input, or raise ClientInvalid with every problem at once."""
    errors: dict[str, str] = {}
    for name, limit in _LIMITS.items():
        value = getattr(data, name).strip()
        if not value:
            errors[name] = "Ce champ est obligatoire."
        elif len(value) > limit:
            errors[name] = f"{limit} caractères au maximum."
        # a character the PDF fonts lack would print as an empty box: refused, named
        elif problem := control_character_problem(value) or unprintable_character_problem(value):
            errors[name] = problem
    siren = rules.normalise_siren(data.siren)
    if not rules.is_valid_siren(siren):
        errors["siren"] = "SIREN invalide : 9 chiffres dont la clé de contrôle (Luhn) est juste."
    vat = rules.normalise_vat(data.vat_number)
    if vat and "siren" not in errors:
        problem = rules.vat_problem(vat, siren)
        if problem:
            errors["vat_number"] = problem
    email = data.signer_email.strip()
    try:
        email = validate_email(email, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        errors["signer_email"] = "Adresse e-mail invalide (ex. prenom.nom@entreprise.fr)."
        if not email.split("@")[0].isascii():
            errors["signer_email"] += " Les caractères accentués ne sont pas acceptés avant le @."
    if errors:
        raise ClientInvalid(errors)
    return ClientInput(
        legal_name=data.legal_name.strip(),
        siren=siren,
        vat_number=vat,
        address=data.address.strip(),
        postal_code=data.postal_code.strip(),
        city=data.city.strip(),
        signer_name=data.signer_name.strip(),
        signer_email=email,
    )


def create_client(
    session: Session,
    data: ClientInput,
    *,
    actor: str,
    now: datetime,
    created_by_id: int | None = None,
) -> Client:
    clean = validate(data)
    client = Client(
        legal_name=clean.legal_name,
        siren=clean.siren,
        vat_number=clean.vat_number or None,
        address=clean.address,
        postal_code=clean.postal_code,
        city=clean.city,
        country="FR",
        signer_name=clean.signer_name,
        signer_email=clean.signer_email,
        status=ClientStatus.ACTIVE,
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="client.created",
        subject_type="client",
        subject_id=client.id,
        client_id=client.id,
    )
    return client


def get_client(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise ClientNotFound(f"Client n° {client_id} introuvable.")
    return client


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.legal_name)))


def terminate(
    session: Session, client: Client, *, on: date, reason: str, actor: str, now: datetime
) -> Client:
    if client.status is ClientStatus.TERMINATED:
        raise ClientAlreadyTerminated(
            f"La résiliation du client n° {client.id} est déjà enregistrée "
            f"(au {format_date(client.terminated_on) if client.terminated_on else '?'})."
        )
    if len(reason) > 2000:
        raise ClientInvalid({"reason": "2 000 caractères au maximum."})
    client.status = ClientStatus.TERMINATED
    client.terminated_on = on
    client.termination_reason = reason.strip() or None
    audit.record(
        session,
        now=now,
        actor=actor,
        action="client.terminated",
        subject_type="client",
        subject_id=client.id,
        client_id=client.id,
        details={"on": on.isoformat(), "reason": client.termination_reason},
    )
    return client
