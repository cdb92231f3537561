"""Who can reach what, read from the application's own routing table.

Every web route guarded by `require(Permission)` is requested by every role and anonymously;
every API route guarded by `require_scope(Scope)` with a token of each scope. A route that is
neither guarded nor in PUBLIC_ENDPOINTS fails the test, so a future unguarded route is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.auth.models import Role, Scope
from app.auth.rules import Permission, can
from app.clients.models import Client
from tests.factories import (
    VALID_CLIENT,
    count,
    deposit_document,
    login_as,
    make_clause,
    make_client,
    make_contract,
    make_credit_note,
    make_invoice,
    make_product,
    make_quote,
    make_token,
    plan_for,
    publish_short_cgv,
    signed_from_quote,
)
from tests.factories.drafts import pending_generation, waiting_preview
from tests.factories.invoices import billing_run
from tests.factories.people import make_user
from tests.factories.space import add_billing_contact
from tests.factories.webhooks import make_webhook_delivery
from tests.integration.fixtures_security import check_each, csrf_of_session, logged_in_csrf
from tests.integration.helpers import user_id_of

# Routes anyone may open: the login page, logging out, the landing page (which redirects an
# anonymous visitor to the login page) and the signer's pages, where the link is the credential.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "home.index",
        "auth.login",
        "auth.logout",
        "signing.page",
        "signing.sign",
        "signing.contract_pdf",
        "signing.page_image",  # the contract's pages as images: the signing link is the key
        "signing.page_images_fragment",  # the same pages, polled while they are rendered
        "branding.logo",  # the vendor's logo and colour, on every public page
        "health.health",  # /sante: a load balancer asks without an account (counts only)
        "branding.colours",
        "signing.done",
        "signing.progress_state",  # the seal's progress, polled by the signer's page
        "signing.signed_pdf",
        "cgv.pdf",  # published CGV texts are public, at a stable address
        "cgv.accept_page",  # click-through acceptance: the emailed link is the credential
        "cgv.accept",
        "restitution.request_page",
        "restitution.request_archive",
        "restitution.request_status",
        "restitution.download",
        "api_docs.api_documentation",
        "signing.download",
        "verify.verify_form",
        "verify.verify_upload",
        "signing.decline",
        "signing.cgv_pdf",
        "signing.send_code",
        "signing.verify_code",
        "accounts.forgot_password",  # answers the same whether the address has an account
        "accounts.set_password",  # the emailed link is the credential
        # the client space's way in (same answer for any address; the link is the credential)
        "client_space.index",
        "client_space.request_link",
        "client_space.confirm_page",
        "client_space.sign_in",
        "client_space.sign_out",
    }
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _methods(rule: Rule) -> list[str]:
    return [m for m in METHODS if m in (rule.methods or set())]


def _routes_guarded_by(app: Flask, attribute: str) -> list[tuple[Rule, Any]]:
    """The routes whose view carries ``attribute`` (set by its guard), with its value."""
    found = []
    for rule in app.url_map.iter_rules():
        guard = app.view_functions[rule.endpoint].__dict__.get(attribute)
        if guard is not None:
            found.append((rule, guard))
    return found


def guarded_web_routes(app: Flask) -> list[tuple[Rule, Permission]]:
    return _routes_guarded_by(app, "required_permission")


def guarded_api_routes(app: Flask) -> list[tuple[Rule, Scope]]:
    return _routes_guarded_by(app, "required_scope")


def test_every_route_is_guarded_or_explicitly_public(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS, f"stale public entries: {PUBLIC_ENDPOINTS - endpoints}"
    problems = []
    for rule in app.url_map.iter_rules():
        attrs = app.view_functions[rule.endpoint].__dict__
        permission, scope = attrs.get("required_permission"), attrs.get("required_scope")
        if rule.rule.startswith("/api/"):
            # API routes authenticate with bearer tokens: a web permission would mean a
            # redirect to a login page; nothing under /api/ is public.
            if scope is None or permission is not None:
                problems.append(f"{rule.rule} ({rule.endpoint}): API route without a scope")
        elif attrs.get("space_session"):
            # a client contact's route: its own session, limited to its client (isolation
            # matrix in test_client_space.py); never a staff permission as well
            if permission is not None or rule.endpoint in PUBLIC_ENDPOINTS:
                problems.append(f"{rule.endpoint}: a contact's route guarded twice")
        elif permission is None and rule.endpoint not in PUBLIC_ENDPOINTS:
            problems.append(f"{rule.rule} ({rule.endpoint}): neither guarded nor public")
        elif permission is not None and rule.endpoint in PUBLIC_ENDPOINTS:
            problems.append(f"{rule.endpoint}: guarded but listed as public")
        elif scope is not None:
            problems.append(f"{rule.rule}: a token scope on a web route")
    assert not problems, "\n".join(problems)
    # sanity: the guards are really there (attributes read from the decorated views)
    assert len(guarded_web_routes(app)) >= 10 and len(guarded_api_routes(app)) >= 6


@dataclass(frozen=True)
class World:
    client_id: int
    quote_id: int  # turned into the contract below
    contract_id: int  # version 1 sent and signed
    product_id: int = 0  # a catalogue item
    clause_id: int = 0  # a library clause


@pytest.fixture
def world(app: Flask) -> World:
    publish_short_cgv(app)  # one PDF rendering and one signature: the slow part, done once
    client_id = make_client(app)
    quote_id = make_quote(app, client_id)
    contract_id = signed_from_quote(app, quote_id)
    return World(client_id, quote_id, contract_id, make_product(app), make_clause(app))


# POST-only actions answered by a business refusal once the guard has let the role through.
# The view ran (no other PDF rendered, no mail sent), which is what the matrix checks.
# Generating from an already contracted quote and sending a signed version are not among
# them: they redirect to the contract, like a second click (tests/…/test_contract_races.py).
ALLOWED_POST_STATUS: dict[str, int] = {}
ALLOWED_POST_STATUS["contracts.new_version"] = 422  # posted without a reason
ALLOWED_POST_STATUS["invoices.credit_note"] = 422  # posted without a reason
ALLOWED_POST_STATUS["invoices.payment"] = 422  # posted without a date (the invoice page again)
ALLOWED_POST_STATUS["webhook_views.rotate"] = 200  # the page, showing the new secret once
ALLOWED_POST_STATUS["invoices.revision_clause"] = 422  # posted without a base month
ALLOWED_POST_STATUS["invoices.revision"] = 422  # posted without a renewal date
ALLOWED_POST_STATUS["invoices.new_plan"] = 422  # posted without a contract
ALLOWED_POST_STATUS["invoices.issue_period"] = 422  # posted without a period
ALLOWED_POST_STATUS["clients.add_billing_contact"] = 422  # posted without a name or address
ALLOWED_POST_STATUS["clients.update_billing_contact"] = 422  # the same


def _cgv_version_id(app: Flask) -> int:
    from sqlalchemy import select

    from app.terms.models import CgvVersion
    from tests.factories import session_of

    with session_of(app) as session:
        return int(session.scalars(select(CgvVersion.id).limit(1)).one())


# The world's request is completed: it can no longer be cancelled or resent.
ALLOWED_POST_STATUS |= {"signature_requests.cancel": 409, "signature_requests.resend": 409}
# Posted without the hash of the text it showed, a preview is not published (409): the view ran.
ALLOWED_POST_STATUS["cgv.publish_preview"] = 409
# Forms whose POST acts and redirects instead of answering the form again.
FORM_POST_STATUS: dict[str, tuple[int, ...]] = {"webhook_views.delete": (302,)}
# The API matrix deposits a stand-in PDF that no validator can read: the view ran (409: the
# archived document's nature forbids the verification).
ALLOWED_API_STATUS: dict[str, tuple[int, ...]] = {
    "signatures_api.verification": (409,),
    # A GET never builds a restitution: before the POST of the matrix, "none yet, POST to
    # ask for one" (404 problem+json), after it the archive.
    "archive_api.restitution": (200, 404),
    # The matrix posts {"terminated_on": …}: the endpoint's view ran and refused that body.
    "webhooks_api.create_endpoint": (422,),
    "webhooks_api.redeliver": (202,),
    "webhooks_api.send_test": (202,),
    "webhooks_api.redeliver_since": (422,),
    # Built by a job (202, inline here), or already built and returned at once (200).
    "archive_api.request_restitution": (200, 202),
    # The status of a restitution request: none yet (404), or the one the POST opened.
    "archive_api.restitution_request": (200, 404),
    # The write API refuses the matrix's {"terminated_on": …} (an unknown member; no body at
    # all for the PATCH) once the scope is checked: the view ran.
    "clients_api.create_client": (422,),
    # A lookup without its SIREN (or VAT number) lists nothing: 422 once the scope is checked.
    "clients_api.find_clients": (422,),
    "clients_api.update_client": (422,),
    "quotes_api.create_quote": (422,),
    "contracts_api.generate": (422,),
    "signatures_api.send": (422,),
    "signatures_api.cancel": (422,),
    "signatures_api.remind": (422,),
    "contracts_api.new_version": (422,),
    # `request_id` 1 names the restitution request; no signature request has that id.
    "signatures_api.get_request": (404,),
}


def _request_id(app: Flask) -> int:
    from sqlalchemy import select

    from app.signatures.models import SignatureRequest
    from tests.factories import session_of

    with session_of(app) as session:
        return int(session.scalar(select(SignatureRequest.id)) or 0)


def web_url(app: Flask, rule: Rule, world: World) -> str:
    """A URL for `rule` whose ids exist, so allowed roles are not answered 404."""
    values: dict[str, Any] = {
        "client_id": world.client_id,
        "quote_id": world.quote_id,
        "contract_id": world.contract_id,
        "number": 1,
        "version_id": _cgv_version_id(app),
        "product_id": world.product_id,
        "clause_id": world.clause_id,
        "token_id": 1,
        "request_id": _request_id(app),
        "fmt": "pdf",
        "run_id": 1,  # no such failed run: the relaunch says so and redirects
        "mail_id": 1,  # no such failed mail: the retry says so and redirects
    }
    if "generation_id" in rule.arguments:
        author = user_id_of(app, make_user(app, Role.SALES, f"{rule.endpoint}@example.test"))
        values["generation_id"] = pending_generation(app, world.contract_id, author)
    if "preview_id" in rule.arguments:
        author = user_id_of(app, make_user(app, Role.LEGAL, f"{rule.endpoint}@example.test"))
        values["preview_id"] = waiting_preview(app, author)
    if "contact_id" in rule.arguments:
        values["contact_id"] = add_billing_contact(
            app, world.client_id, f"{rule.endpoint}@client.example"
        )
    if "invoice_id" in rule.arguments:
        values["invoice_id"] = make_invoice(app, world.client_id)
    if "plan_id" in rule.arguments:
        values["plan_id"] = plan_for(app, world.contract_id)
    if "billing_run_id" in rule.arguments:
        values["billing_run_id"] = billing_run(app)
    if "user_id" in rule.arguments:
        # a user of its own: deactivating or demoting a logged-in browser would end its session
        values["user_id"] = user_id_of(
            app, make_user(app, Role.SALES, f"{rule.endpoint}@example.test")
        )
    if "note_id" in rule.arguments:
        values["note_id"] = make_credit_note(app, world.client_id)
    if {"endpoint_id", "delivery_id"} & set(rule.arguments):
        values["endpoint_id"], values["delivery_id"] = make_webhook_delivery(app)
    missing = set(rule.arguments) - set(values)
    assert not missing, f"add URL values for the new route {rule.endpoint}: {missing}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def test_web_access_matrix(app: Flask, world: World) -> None:
    browsers: dict[Role, FlaskClient] = {role: login_as(app, role) for role in Role}
    csrf = {role: logged_in_csrf(browser) for role, browser in browsers.items()}
    anonymous = app.test_client()
    anonymous_csrf = csrf_of_session(anonymous)

    guarded = guarded_web_routes(app)
    cells: list[tuple[str, str, str, bool, Role | None, bool]] = []
    for rule, permission in guarded:
        url = web_url(app, rule, world)
        is_form = "GET" in _methods(rule)
        for method in _methods(rule):
            cells.append((rule.endpoint, method, url, is_form, None, False))
            for role in Role:
                cells.append((rule.endpoint, method, url, is_form, role, can(role, permission)))

    def check(
        endpoint: str, method: str, url: str, is_form: bool, role: Role | None, allowed: bool
    ) -> None:
        browser = anonymous if role is None else browsers[role]
        data = {"csrf_token": anonymous_csrf if role is None else csrf[role]}
        response = browser.open(url, method=method, data=data if method == "POST" else None)
        if role is None:
            assert response.status_code == 302, response.status_code
            assert response.headers["Location"].startswith("/connexion?next="), response.headers
        elif not allowed:
            assert response.status_code == 403, response.status_code
            assert "Votre rôle ne permet pas cette action." in response.get_data(as_text=True)
        elif is_form:
            # pages, and forms posted empty (the form answers, with its own status)
            posted = FORM_POST_STATUS.get(endpoint, (200, 422))
            assert response.status_code in ((200,) if method == "GET" else posted), (
                response.status_code,
                response.get_data(as_text=True)[:300],
            )
        else:  # a POST-only action, by a role allowed to do it
            expected = ALLOWED_POST_STATUS.get(endpoint, 302)
            assert response.status_code == expected, (
                response.status_code,
                response.get_data(as_text=True)[:300],
            )
            if expected == 302:
                assert not response.headers["Location"].startswith("/connexion")

    check_each(cells, check)

    # the matrix covered every guarded route with every method it accepts
    covered = {(endpoint, method) for endpoint, method, *_ in cells}
    expected = {(rule.endpoint, m) for rule, _ in guarded for m in _methods(rule)}
    assert covered == expected
    assert len(cells) == len(expected) * (len(Role) + 1)


def test_a_forbidden_post_writes_nothing(app: Flask) -> None:
    # the guard answers before the form is read: a valid client posted by legal is not created
    before = count(app, Client)
    assert before == 0
    for role in (Role.LEGAL, Role.ARCHIVIST, Role.ADMIN):
        browser = login_as(app, role)
        response = browser.post(
            "/clients/nouveau", data={"csrf_token": logged_in_csrf(browser), **VALID_CLIENT}
        )
        assert response.status_code == 403, role
    assert count(app, Client) == before


def test_api_access_matrix(app: Flask) -> None:
    client_id = make_client(app)
    document_id = deposit_document(app, client_id, reference="CTR-MATRICE-0001")
    tokens = {scope: make_token(app, scope) for scope in Scope}
    client = app.test_client()
    values: dict[str, Any] = {"client_id": client_id, "document_id": document_id}
    publish_short_cgv(app)
    values["version_id"] = _cgv_version_id(app)
    values["quote_id"] = make_quote(app, client_id)
    values["endpoint_id"], values["delivery_id"] = make_webhook_delivery(app)
    values["request_id"] = 1  # the restitution request the matrix's POST opens
    values["contract_id"] = make_contract(app, values["quote_id"])
    author = user_id_of(app, make_user(app, Role.SALES, "api-matrix@example.test"))
    values["generation_id"] = pending_generation(app, values["contract_id"], author)
    values["invoice_id"] = make_invoice(app, client_id)
    values["note_id"] = make_credit_note(app, client_id)

    guarded = guarded_api_routes(app)
    cells: list[tuple[str, str, str, Scope | None, bool]] = []
    for rule, required in guarded:
        own = dict(values)
        if rule.endpoint == "webhooks_api.delete_endpoint":
            # an endpoint of its own: the allowed DELETE removes it, and the other webhook
            # routes of the matrix must still find theirs
            own["endpoint_id"], _delivery = make_webhook_delivery(app)
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: own[k] for k in rule.arguments})
        for method in _methods(rule):
            cells.append((rule.endpoint, method, url, None, False))
            for scope in Scope:
                cells.append((rule.endpoint, method, url, scope, scope == required))

    def check(endpoint: str, method: str, url: str, scope: Scope | None, allowed: bool) -> None:
        headers = {} if scope is None else {"Authorization": f"Bearer {tokens[scope]}"}
        body = {"terminated_on": "2026-12-31"} if method == "POST" else None
        body = {"reason": "contrôle des accès"} if method == "PUT" else body
        response = client.open(url, method=method, headers=headers, json=body)
        if scope is None:
            assert response.status_code == 401, response.status_code
        elif not allowed:
            assert response.status_code == 403, response.status_code
            assert response.mimetype == "application/problem+json"
        else:
            expected = ALLOWED_API_STATUS.get(endpoint, (200, 201))
            assert response.status_code in expected, (response.status_code, response.data[:300])

    check_each(cells, check)
    covered = {(endpoint, method) for endpoint, method, *_ in cells}
    assert covered == {(rule.endpoint, m) for rule, _ in guarded for m in _methods(rule)}
