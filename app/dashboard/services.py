"""The dashboard's queries. Read-only; each takes a session and `now` (the business day and
the "within 3 days" horizon derive from it), so a test sets the moment it looks from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.audit.models import AuditEvent
from app.clients.models import Client
from app.clients.rules import folded, normalise_siren
from app.clock import business_date
from app.contracts.models import Contract, ContractVersion
from app.invoices.models import Invoice
from app.invoices.payments import amount_due
from app.quotes.models import Quote
from app.rendering.labels import EVENT_LABELS
from app.signatures.models import RequestStatus, SignatureRequest, Signer, SignerStatus

EXPIRY_HORIZON = timedelta(days=3)
RECENT_DECLINES = timedelta(days=30)
LIST_LIMIT = 20
SEARCH_LIMIT = 20

# A signer whose turn it is: invited, and not yet signed or refused.
_THEIR_TURN = (SignerStatus.NOTIFIED, SignerStatus.OPENED, SignerStatus.AUTHENTICATED)
_OPEN = (RequestStatus.SENT, RequestStatus.PARTIALLY_SIGNED)


@dataclass(frozen=True)
class Waiting:
    """An open signature request and the people it waits on."""

    request: SignatureRequest
    contract: Contract
    client: Client
    waiting_on: list[Signer]
    expires_at: datetime | None  # the earliest link expiry among them (or the request's)


@dataclass(frozen=True)
class Declined:
    request: SignatureRequest
    contract: Contract
    client: Client
    by: Signer | None
    reason: str


@dataclass(frozen=True)
class SealFailure:
    request: SignatureRequest
    contract: Contract
    client: Client
    error: str


@dataclass(frozen=True)
class Overdue:
    invoice: Invoice
    client: Client
    amount_due: Decimal
    days_late: int


@dataclass(frozen=True)
class Activity:
    at: datetime
    label: str
    client: Client | None


@dataclass
class Dashboard:
    waiting: list[Waiting] = field(default_factory=list)
    expiring: list[Waiting] = field(default_factory=list)
    to_countersign: list[Waiting] = field(default_factory=list)
    declined: list[Declined] = field(default_factory=list)
    seal_failures: list[SealFailure] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    search: SearchResults | None = None

    @property
    def nothing_to_do(self) -> bool:
        return not (
            self.waiting
            or self.declined
            or self.seal_failures
            or self.overdue
            or self.to_countersign
        )


def _contract_of(request: SignatureRequest) -> Contract:
    version: ContractVersion = request.contract_version
    return version.contract


def waiting_requests(session: Session) -> list[Waiting]:
    requests = session.scalars(
        select(SignatureRequest)
        .where(SignatureRequest.status.in_(_OPEN))
        .options(selectinload(SignatureRequest.signers))
        .order_by(SignatureRequest.created_at)
        .limit(LIST_LIMIT * 5)
    ).all()
    found = []
    for request in requests:
        on = [s for s in request.signers if s.status in _THEIR_TURN]
        expiries = [s.token_expires_at for s in on if s.token_expires_at is not None]
        if request.expires_at is not None:
            expiries.append(request.expires_at)
        contract = _contract_of(request)
        found.append(Waiting(request, contract, contract.client, on, min(expiries, default=None)))
    return found


def declined_requests(session: Session, now: datetime) -> list[Declined]:
    signers = session.scalars(
        select(Signer)
        .join(SignatureRequest, Signer.request_id == SignatureRequest.id)
        .where(
            SignatureRequest.status == RequestStatus.DECLINED,
            Signer.declined_at >= now - RECENT_DECLINES,
        )
        .order_by(Signer.declined_at.desc())
        .limit(LIST_LIMIT)
    ).all()
    rows = []
    for signer in signers:
        request = signer.request
        contract = _contract_of(request)
        reason = request.closed_reason or "aucun motif indiqué"
        rows.append(Declined(request, contract, contract.client, signer, reason))
    return rows


def seal_failures(session: Session) -> list[SealFailure]:
    """Requests signed by everyone whose platform seal is not in place after an attempt."""
    requests = session.scalars(
        select(SignatureRequest)
        .where(
            SignatureRequest.status == RequestStatus.COMPLETED,
            SignatureRequest.sealed_at.is_(None),
            or_(SignatureRequest.seal_error.is_not(None), SignatureRequest.seal_attempts > 0),
        )
        .order_by(SignatureRequest.completed_at)
        .limit(LIST_LIMIT)
    ).all()
    return [
        SealFailure(r, _contract_of(r), _contract_of(r).client, r.seal_error or "échec inconnu")
        for r in requests
    ]


def overdue_invoices(session: Session, today: date) -> list[Overdue]:
    invoices = session.scalars(
        select(Invoice).where(Invoice.due_on < today).order_by(Invoice.due_on, Invoice.id)
    ).all()
    rows = []
    for invoice in invoices:
        due = amount_due(session, invoice)
        if due > 0:
            rows.append(Overdue(invoice, invoice.client, due, (today - invoice.due_on).days))
    return rows[:LIST_LIMIT]


def recent_activity(session: Session, limit: int = 15) -> list[Activity]:
    """The latest events of the journal that concern sales (those with a French sentence in
    `EVENT_LABELS`): logins, reads and purges are not activity."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(list(EVENT_LABELS)))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client).where(Client.id.in_({e.client_id for e in events if e.client_id}))
        )
    }
    return [Activity(e.at, EVENT_LABELS[e.action], clients.get(e.client_id or 0)) for e in events]


def overview(session: Session, now: datetime, *, invoices: bool, query: str = "") -> Dashboard:
    """Everything the home page shows: what waits, recent activity and, when `query` is
    given, the search results. `invoices`: whether the reader may see invoices."""
    waiting = waiting_requests(session)
    horizon = now + EXPIRY_HORIZON
    return Dashboard(
        waiting=[w for w in waiting if any(s.party == "client" for s in w.waiting_on)],
        expiring=[w for w in waiting if w.expires_at is not None and w.expires_at <= horizon],
        to_countersign=[w for w in waiting if any(s.party == "vendor" for s in w.waiting_on)],
        declined=declined_requests(session, now),
        seal_failures=seal_failures(session),
        overdue=overdue_invoices(session, business_date(now)) if invoices else [],
        activity=recent_activity(session),
        search=search(session, query) if query.strip() else None,
    )


@dataclass(frozen=True)
class SearchResults:
    query: str
    clients: list[Client]
    quotes: list[Quote]
    contracts: list[Contract]

    @property
    def empty(self) -> bool:
        return not (self.clients or self.quotes or self.contracts)


_Numbered = TypeVar("_Numbered", Quote, Contract)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching_clients(session: Session, text: str) -> list[Client]:
    """The clients whose name, city or signer's name contains `text` (accents and case
    ignored) or whose SIREN it is (spaces ignored). Accent folding is not portable between
    SQLite and PostgreSQL (no `unaccent` there), so it is done here over the few columns of
    every client (a vendor's client list is thousands of rows at most); in French order."""
    wanted = folded(text)
    siren = normalise_siren(text)
    rows = session.execute(
        select(Client.id, Client.legal_name, Client.city, Client.signer_name, Client.siren)
    ).all()
    found = sorted(
        (folded(row.legal_name), row.id)
        for row in rows
        if (siren and row.siren == siren)
        or any(wanted in folded(v) for v in (row.legal_name, row.city, row.signer_name))
    )[:SEARCH_LIMIT]
    ids = [client_id for _, client_id in found]
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(ids)))}
    return [clients[client_id] for client_id in ids]


def search(session: Session, query: str) -> SearchResults:
    """Clients by name, city, signer's name or SIREN, quotes and contracts by number; accents,
    case and (in a SIREN or a number) spaces ignored."""
    text = query.strip()[:100]
    if not text:
        return SearchResults("", [], [], [])
    pattern = _like("".join(text.split()))  # « DEV-2026- 0001 »
    return SearchResults(
        text,
        _matching_clients(session, text),
        _numbered(session, Quote, pattern),
        _numbered(session, Contract, pattern),
    )


def _numbered(session: Session, model: type[_Numbered], pattern: str) -> list[_Numbered]:
    """The quotes or contracts whose number matches, in number order."""
    return list(
        session.scalars(
            select(model)
            .where(model.number.ilike(pattern, escape="\\"))
            .order_by(model.number)
            .limit(SEARCH_LIMIT)
        ).all()
    )
