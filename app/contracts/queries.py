"""Finding contracts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.contracts.errors import ContractNotFound
from app.contracts.models import Contract, ContractVersion
from app.messages import msg


def get_contract(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise ContractNotFound(
            msg("Contrat n° {contract_id} introuvable.", contract_id=contract_id)
        )
    return contract


def get_version(session: Session, contract_id: int, number: int) -> ContractVersion:
    """Version `number` of a contract (`ContractNotFound` when either does not exist)."""
    contract = get_contract(session, contract_id)
    for version in contract.versions:
        if version.version == number:
            return version
    raise ContractNotFound(
        msg(
            "Le contrat {contract_number} n'a pas de version {number}.",
            contract_number=contract.number,
            number=number,
        )
    )


def contracts_of(session: Session, client_id: int) -> Sequence[Contract]:
    return (
        session.scalars(
            select(Contract).where(Contract.client_id == client_id).order_by(Contract.id.desc())
        )
        .unique()
        .all()
    )


def all_contracts(session: Session) -> Sequence[Contract]:
    return session.scalars(select(Contract).order_by(Contract.id.desc())).unique().all()


def contract_of_quote(session: Session, quote_id: int) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.quote_id == quote_id))


def contract_made_from(session: Session, quote_id: int) -> Contract | None:
    """The contract the quote became: as its version 1, or as a later version (a revised
    quote); versions before migration 0003 record no quote of their own."""
    return session.scalar(
        select(Contract)
        .outerjoin(ContractVersion, ContractVersion.contract_id == Contract.id)
        .where(or_(Contract.quote_id == quote_id, ContractVersion.quote_id == quote_id))
        .order_by(Contract.id)
        .limit(1)
    )
