"""Data builders for the bad-input and security tests.

Setup goes through the services (fast, no HTTP) so that each test exercises HTTP only where it
asserts something. A short CGV keeps contract rendering well under a second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clients.services import ClientInput, create_client
from app.contracts.services import generate_contract
from app.db import transaction, utcnow
from app.quotes.rules import LineInput
from app.quotes.services import create_quote
from app.runtime import Runtime
from app.signatures import codes, sending, workflow
from app.signatures.models import Signer
from tests.conftest import csrf_from
from tests.integration.helpers import publish_cgv

SHORT_CGV = (
    "# Conditions générales de vente\n\n"
    "## Article 1. Objet\n\n"
    "Les présentes conditions régissent l'abonnement au service.\n\n"
    "## Article 2. Prix\n\n"
    "Les prix sont ceux de la proposition commerciale.\n"
)

VALID_CLIENT: dict[str, str] = {
    "legal_name": "Boulangerie Lefèvre & Fils",
    "siren": "552100554",
    "vat_number": "FR96552100554",
    "address": "3 place de la Bourse",
    "postal_code": "69002",
    "city": "Lyon",
    "signer_name": "Zoë Martin",
    "signer_email": "zoe@example.fr",
}


def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["paraphe"]
    return rt


def session_of(app: Flask) -> Session:
    """A plain session for reading the database from a test (use it in a `with`)."""
    return runtime(app).session_factory()


def count(app: Flask, model: Any, *where: Any) -> int:
    with session_of(app) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def make_fast_user(app: Flask, role: Any, email_addr: str | None = None) -> str:
    """A user like helpers.make_user, with a cheap password hash: scrypt costs a tenth of a
    second per hash and per login, which adds up over a matrix of roles."""
    from werkzeug.security import generate_password_hash

    from app.auth.models import User
    from tests.integration.helpers import PASSWORD

    address = email_addr or f"{role.value}@example.test"
    with transaction(runtime(app).session_factory) as session:
        session.add(
            User(
                email=address,
                full_name=f"Test {role.label}",
                role=role,
                password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000"),
                active=True,
                created_at=utcnow(),
            )
        )
    return address


def login_as(app: Flask, role: Any) -> FlaskClient:
    """A new browser, logged in through the login form as a new user of `role`."""
    from tests.integration.helpers import login

    browser = app.test_client()
    login(browser, make_fast_user(app, role))
    return browser


def deposit_document(app: Flask, client_id: int, reference: str = "CTR-2026-0001") -> int:
    from app.documents.models import DocumentKind
    from app.documents.services import deposit

    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        document = deposit(
            session,
            rt.store,
            kind=DocumentKind.CONTRACT,
            client_id=client_id,
            reference=reference,
            version=1,
            data=f"%PDF-1.7 {reference}\n".encode(),
            media_type="application/pdf",
            filename=f"{reference}-v1.pdf",
            now=utcnow(),
            actor="test",
        )
        return document.id


def publish_short_cgv(app: Flask) -> None:
    publish_cgv(app, SHORT_CGV, label="3.0", effective="2024-01-01")


def make_client(app: Flask, **overrides: str) -> int:
    data = {**VALID_CLIENT, **overrides}
    with transaction(runtime(app).session_factory) as session:
        # Tests often need several clients of one company: the duplicate warning has its own
        # tests (test_client_identity), so fixtures confirm it.
        client = create_client(
            session, ClientInput(**data), actor="test", now=utcnow(), confirm_duplicate=True
        )
        return client.id


def make_product(app: Flask, code: str = "PREMIUM", price: str = "100.00", vat: str = "20") -> int:
    from app.quotes.models import ProductKind
    from app.quotes.services import ProductInput, create_product

    with transaction(runtime(app).session_factory) as session:
        product = create_product(
            session,
            ProductInput(
                code, ProductKind.PLAN, "Abonnement Premium", "mois", Decimal(price), Decimal(vat)
            ),
            now=utcnow(),
            actor="test",
        )
        return product.id


def make_clause(
    app: Flask, title: str = "Réversibilité", body: str = "{{ client_name }} récupère ses données."
) -> int:
    from app.clauses.services import create_clause

    with transaction(runtime(app).session_factory) as session:
        clause = create_clause(
            session, title=title, body=body, now=utcnow(), actor="test", author_id=None
        )
        return clause.id


def make_quote(
    app: Flask,
    client_id: int,
    *,
    particular_terms: str = "",
    lines: list[LineInput] | None = None,
) -> int:
    lines = lines or [
        LineInput("Abonnement Premium (12 mois)", Decimal("12"), Decimal("100.00"), Decimal("20"))
    ]
    with transaction(runtime(app).session_factory) as session:
        from app.clients.services import get_client

        now = utcnow()
        quote = create_quote(
            session,
            client=get_client(session, client_id),
            lines=lines,
            particular_terms=particular_terms,
            today=now.date(),
            now=now,
            actor="test",
        )
        return quote.id


def make_contract(app: Flask, quote_id: int, countersigner: Any = None) -> int:
    """Generate version 1; with a `Countersigner`, the vendor signs after the client."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        from app.quotes.services import get_quote

        version = generate_contract(
            session,
            rt.store,
            quote=get_quote(session, quote_id),
            vendor=rt.settings.vendor,
            now=utcnow(),
            actor="test",
            author_id=None,
            countersigner=countersigner,
        )
        return version.contract_id


def certified_for(app: Flask, version: Any, *, parallel: bool = False) -> bytes:
    """The version's document certified by the platform, as the send view does (these apps
    have no timestamp authority: no network call)."""
    rt = runtime(app)
    return sending.certify_document(
        rt.store.get(version.document.sha256),
        len(sending.signers_of_version(version, parallel=parallel)),
        rt.signing_key(),
        now=utcnow(),
        certifier=rt.settings.vendor.legal_name,
    )


def send_contract(app: Flask, contract_id: int) -> str:
    """Send version 1 for signature; return the signing link path (/signature/<token>)."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        from app.contracts.services import get_contract

        version = get_contract(session, contract_id).versions[0]
        _request, invitations = sending.send_for_signature(
            session,
            rt.store,
            version=version,
            certified=certified_for(app, version),
            now=utcnow(),
            actor="test",
            created_by_id=None,
            link_days=30,
        )
        return f"/signature/{invitations[0].token}"


def sign_through_services(app: Flask, link: str) -> None:
    """Sign a link the way the POST handler does, without HTTP (setup only)."""
    token = link.rsplit("/", 1)[1]
    authenticate_link(app, token)
    workflow.sign_with_link(
        runtime(app).collaborators(utcnow()),
        token,
        accepted_cgv=True,
        agreed=True,
        authenticated=True,
        ip="127.0.0.1",
        user_agent="test",
    )


def authenticate_link(app: Flask, token: str) -> None:
    """Issue a one-time code and enter it, through the services (setup only)."""
    rt = runtime(app)
    secret = rt.settings.secret_key
    with transaction(rt.session_factory) as session:
        code = codes.issue_code(session, token, now=utcnow(), secret=secret).code
    with transaction(rt.session_factory) as session:
        check = codes.verify_code(
            session, token, code, now=utcnow(), secret=secret, ip=None, user_agent=None
        )
        assert check.ok


def expire_link(app: Flask, link: str, *, ago: timedelta = timedelta(minutes=1)) -> None:
    from app.tokens import token_hash

    token = link.rsplit("/", 1)[1]
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer).where(Signer.token_hash == token_hash(token)))
        assert signer is not None
        signer.token_expires_at = utcnow() - ago


@dataclass(frozen=True)
class Contracted:
    """A client with a quote turned into a contract (version 1, generated, not yet sent)."""

    client_id: int
    quote_id: int
    contract_id: int


def make_contracted_client(app: Flask, **client_overrides: str) -> Contracted:
    client_id = make_client(app, **client_overrides)
    quote_id = make_quote(app, client_id)
    return Contracted(client_id, quote_id, make_contract(app, quote_id))


# --- reading what a browser sees ----------------------------------------------------------

_FIELD_ERROR = re.compile(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', re.S)


def field_errors(html: str) -> dict[str, list[str]]:
    """Messages shown under each field of a form rendered with _field.html, unescaped."""
    errors: dict[str, list[str]] = {}
    for field, message in _FIELD_ERROR.findall(html):
        errors.setdefault(field, []).append(unescape(message))
    return errors


_CELL = re.compile(r"<td[^>]*>(?:(?!</td>).)*</td>", re.S)


def line_cell_errors(html: str) -> dict[str, list[str]]:
    """Messages shown in the quote-line table cells, keyed by the input id (lines-0-quantity)."""
    errors: dict[str, list[str]] = {}
    for cell in _CELL.findall(html):
        ident = re.search(r'id="(lines-\d+-[a-z_]+)"', cell)
        messages = re.findall(r'<p class="field-error">(.*?)</p>', cell, re.S)
        if ident and messages:
            assert cell.startswith('<td class="has-error">'), cell[:200]
            errors[ident.group(1)] = [unescape(m) for m in messages]
    return errors


def csrf_of_session(client: FlaskClient) -> str:
    """A CSRF token tied to the client's session, from a page every visitor can open."""
    return csrf_from(client.get("/connexion").get_data(as_text=True))


def logged_in_csrf(client: FlaskClient) -> str:
    """A CSRF token for a logged-in user, from the logout form of the home page."""
    page = client.get("/")
    assert page.status_code == 200, page.status_code
    return csrf_from(page.get_data(as_text=True))


def iter_outbox_links(app: Flask) -> Iterator[str]:
    from tests.integration.helpers import body_text, outbox_messages, signing_link

    for message in outbox_messages(runtime(app).settings.outbox_dir):
        if "ouvrez ce lien personnel" in body_text(message):  # invitations only
            yield signing_link(message)


ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
"""The backend the conftest uses for this run (some bugs only show on one of them)."""


def check_each(cases: list[Any], check: Any) -> None:
    """Run `check(*case)` for every case (cheap requests sharing one setup) and report every
    failing case at once, not only the first."""
    failures: list[str] = []
    for case in cases:
        args = case if isinstance(case, tuple) else (case,)
        try:
            check(*args)
        except AssertionError as exc:
            failures.append(f"- {args!r}: {exc}")
    assert not failures, f"{len(failures)}/{len(cases)} cases failed:\n" + "\n".join(failures)
