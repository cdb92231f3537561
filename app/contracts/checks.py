"""What refuses a contract version, checked under row locks held until the transaction ends:
version 1 of a quote's contract (the quote neither contracted nor expired) and version n+1 (a
reason, no version made since the one the user saw, none out for signature, a revised quote of
the same client). The web form checks before it hands the rendering to a job (`requested`),
and the rendering (`generation`) checks again."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import business_date
from app.contracts.errors import (
    ContractInvalid,
    ContractRefused,
    QuoteAlreadyContracted,
    VersionAlreadyCreated,
)
from app.contracts.models import Contract, ContractVersion, VersionStatus
from app.contracts.queries import contract_made_from
from app.messages import msg
from app.plaintext import control_character_problem
from app.quotes.models import Quote, QuoteStatus

MAX_REASON = 1000


def _lock_quote(session: Session, quote: Quote) -> None:
    """Lock the quote's row until the transaction ends and re-read its status: of two
    parallel generations (a double-click), the second waits for the first to commit, then
    finds the quote contracted. SQLite ignores FOR UPDATE; its BEGIN IMMEDIATE transactions
    are serialised already."""
    session.execute(select(Quote.id).where(Quote.id == quote.id).with_for_update())
    session.refresh(quote, ["status"])


def _lock_versions(session: Session, contract: Contract) -> None:
    """Lock the contract and its versions until the transaction ends, and re-read them: two
    parallel new versions are numbered one after the other (the second waits for the first
    to commit), and a version being sent (locked by signatures.lock_version) is not
    superseded under the sender. SQLite ignores FOR UPDATE; its BEGIN IMMEDIATE transactions
    are serialised already."""
    session.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    session.scalars(
        select(ContractVersion)
        .where(ContractVersion.contract_id == contract.id)
        .with_for_update(of=ContractVersion)
        .execution_options(populate_existing=True)
    ).all()
    session.refresh(contract, ["versions"])


def _check_quote(quote: Quote, today: date, session: Session) -> None:
    if quote.status is QuoteStatus.CONTRACTED:
        existing = contract_made_from(session, quote.id)
        if existing is not None:
            raise QuoteAlreadyContracted(
                msg(
                    "Le devis {quote_number} a déjà donné lieu au contrat {existing_number} : "
                    "rien d'autre n'a été généré.",
                    quote_number=quote.number,
                    existing_number=existing.number,
                ),
                existing.id,
            )
        raise ContractRefused(
            msg(
                "Le devis {quote_number} a déjà donné lieu à un contrat.", quote_number=quote.number
            )
        )
    if quote.valid_until < today:
        raise ContractRefused(
            msg(
                "Le devis {quote_number} a expiré le {quote_valid_until_isoformat} : établissez "
                "un nouveau devis.",
                quote_number=quote.number,
                quote_valid_until_isoformat=quote.valid_until.isoformat(),
            )
        )


def check_first_version(session: Session, quote: Quote, now: datetime) -> None:
    """What refuses version 1 of the quote's contract, checked under the quote's row lock
    (held until the transaction ends): the web form checks it before it hands the rendering
    to a job, and the job checks it again."""
    _lock_quote(session, quote)
    _check_quote(quote, business_date(now), session)


def check_new_version(
    session: Session,
    contract: Contract,
    *,
    reason: str,
    based_on: int | None,
    quote: Quote | None,
    now: datetime,
) -> str:
    """What refuses version n+1, checked under the contract's and its versions' row locks
    (held until the transaction ends; the revised quote's too): the web form checks it before
    it hands the rendering to a job, and the job checks it again. Returns the reason, trimmed."""
    reason = reason.strip()
    if not reason:
        raise ContractInvalid({"reason": msg("Indiquez le motif de la nouvelle version.")})
    if len(reason) > MAX_REASON or control_character_problem(reason, multiline=True):
        raise ContractInvalid(
            {"reason": msg("Motif de {max_reason} caractères au maximum.", max_reason=MAX_REASON)}
        )
    _lock_versions(session, contract)
    latest = contract.latest
    if based_on is not None and latest.version != based_on:
        raise VersionAlreadyCreated(
            msg(
                "La version {latest_version} du contrat {contract_number} a été créée depuis "
                "l'affichage de la version {based_on} (double clic ou autre utilisateur) : "
                "vérifiez-la avant d'en demander une autre.",
                latest_version=latest.version,
                contract_number=contract.number,
                based_on=based_on,
            ),
            contract_id=contract.id,
        )
    if latest.status is VersionStatus.SENT:
        raise ContractRefused(
            msg(
                "La version {latest_version} est en cours de signature : attendez la signature "
                "ou son expiration.",
                latest_version=latest.version,
            )
        )
    if quote is not None:
        if quote.client_id != contract.client_id:
            raise ContractInvalid({"quote": msg("Ce devis concerne un autre client.")})
        _lock_quote(session, quote)
        _check_quote(quote, business_date(now), session)
    return reason
