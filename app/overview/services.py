"""What the client page and the quote page show, assembled from the features below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from app.clauses.models import Clause
from app.clauses.services import list_clauses
from app.clients.models import Client
from app.clients.rules import EU_COUNTRIES
from app.clients.services import get_client
from app.contracts.models import Contract
from app.contracts.queries import contract_of_quote, contracts_of, get_contract
from app.pricing.totals import Totals
from app.quotes import services as quotes
from app.quotes.commercial_terms import describe_terms
from app.quotes.models import Quote, QuoteLine, QuoteStatus
from app.signatures.lifecycle import reminder_plan
from app.signatures.models import SignatureRequest
from app.signatures.progress import RequestProgress, request_progress
from app.signatures.revisions import requests_for_version
from app.signatures.rules import ReminderPlan
from app.terms.acceptances import Opposable, acceptances_of, is_client_behind, opposable_for
from app.terms.models import CgvAcceptance, CgvVersion


@dataclass(frozen=True)
class ClientOverview:
    client: Client
    country_name: str
    quotes: Sequence[Quote]
    contracts: Sequence[Contract]
    acceptances: Sequence[CgvAcceptance]
    opposable: Opposable  # the CGV version that binds the client today


def client_overview(session: Session, client_id: int, today: date) -> ClientOverview:
    client = get_client(session, client_id)
    return ClientOverview(
        client=client,
        country_name=EU_COUNTRIES.get(client.country, client.country),
        quotes=quotes.quotes_of(session, client.id),
        contracts=contracts_of(session, client.id),
        acceptances=acceptances_of(session, client.id),
        opposable=opposable_for(session, client.id, today),
    )


@dataclass(frozen=True)
class QuotePage:
    quote: Quote
    totals: Totals
    rows: list[tuple[QuoteLine, Decimal]]  # each line with its total
    terms_sentences: tuple[str, ...]
    contract: Contract | None  # the contract generated from the quote, if any
    clauses: list[Clause]  # the library, to choose from when generating the contract


def quote_page(session: Session, quote_id: int) -> QuotePage:
    quote = quotes.get_quote(session, quote_id)
    totals = quotes.totals_of(quote)
    return QuotePage(
        quote=quote,
        totals=totals,
        rows=list(zip(quote.lines, totals.line_totals, strict=True)),
        terms_sentences=describe_terms(quotes.terms_of(quote)),
        contract=contract_of_quote(session, quote.id),
        clauses=list_clauses(session),
    )


@dataclass(frozen=True)
class ContractPage:
    contract: Contract
    requests: dict[int, list[SignatureRequest]]  # by version id: its signature requests
    # by version id, for versions whose CGV the client has not accepted: the version that binds
    cgv_behind: dict[int, CgvVersion | None]
    clauses: list[Clause]  # the library, for a new version
    # what the new-version form starts from: the latest version's library clauses (their
    # clause ids, ticked) and its free text, so that an amendment keeps them unless removed
    kept_clause_ids: set[int]
    kept_free_text: str
    draft_quotes: list[Quote]  # the client's quotes a new version can take its lines from
    progress: dict[int, RequestProgress]  # by request id: where it stands (seal included)
    reminders: dict[int, ReminderPlan]  # by signer id: reminders sent and the next one due


def contract_page(
    session: Session, contract_id: int, today: date, *, schedule: tuple[int, ...], at_most: int
) -> ContractPage:
    """What the contract page shows: it reads signature requests, so it sits above both
    contracts and signatures (a contract knows nothing of how it is signed). `schedule` and
    `at_most`: the instance's reminders (`PARAPHE_REMINDER_DAYS`, `PARAPHE_REMINDER_MAX`)."""
    contract = get_contract(session, contract_id)
    requests = {v.id: requests_for_version(session, v.id) for v in contract.versions}
    library = list_clauses(session)
    printed = contract.latest.clauses
    kept = {c.clause_version_id for c in printed if c.clause_version_id is not None}
    return ContractPage(
        contract=contract,
        requests=requests,
        cgv_behind={
            v.id: opposable_for(session, contract.client_id, today).version
            for v in contract.versions
            if is_client_behind(session, contract.client_id, v.cgv_version, today)
        },
        clauses=library,
        kept_clause_ids={c.id for c in library if any(v.id in kept for v in c.versions)},
        kept_free_text=next((c.body_markdown for c in printed if c.clause_version_id is None), ""),
        draft_quotes=[
            q
            for q in quotes.quotes_of(session, contract.client_id)
            if q.status is QuoteStatus.DRAFT
        ],
        progress=_progress_by_request(requests),
        reminders={
            s.id: reminder_plan(session, s, schedule=schedule, at_most=at_most)
            for rs in requests.values()
            for r in rs
            for s in r.signers
        },
    )


def _progress_by_request(
    requests: dict[int, list[SignatureRequest]],
) -> dict[int, RequestProgress]:
    return {r.id: request_progress(r) for rs in requests.values() for r in rs}


@dataclass(frozen=True)
class ContractProgress:
    """What the contract page polls: its versions and their requests, nothing else."""

    contract: Contract
    requests: dict[int, list[SignatureRequest]]  # by version id
    progress: dict[int, RequestProgress]  # by request id


def contract_progress(session: Session, contract_id: int) -> ContractProgress:
    contract = get_contract(session, contract_id)
    requests = {v.id: requests_for_version(session, v.id) for v in contract.versions}
    return ContractProgress(contract, requests, _progress_by_request(requests))
