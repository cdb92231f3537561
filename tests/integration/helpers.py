"""Acting as a user through the HTTP interface, the way a browser would."""

from __future__ import annotations

import email
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from pypdf.generic import StreamObject
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.auth.models import Role
from app.auth.services import find_user
from app.contracts.queries import get_contract
from app.db import transaction, utcnow
from app.mail import delivery
from app.mail.models import MailStatus, OutgoingMailRecord
from app.runtime import Runtime
from app.signatures.models import Signer
from storage import FilesystemBlobStore
from tests.conftest import csrf_from
from tests.factories import login_as, make_client, make_quote, publish_short_cgv, signer_of
from tests.integration.fixtures_security import logged_in_csrf
from tests.together import PARALLEL, all_at_once


def post_form(
    client: FlaskClient, page_url: str, data: dict[str, str], url: str | None = None
) -> TestResponse:
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    payload = {"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
    return client.post(url or page_url, data=payload)


def issue_invoice_from_page(
    browser: FlaskClient, client_id: int, *, quantity: str = "1"
) -> TestResponse:
    """Issue a one-line manual invoice (`quantity` × 900,00 € HT, 20 % VAT) through the invoice
    form, as sales do; the response is the redirect to the invoice's page, or the form again
    when `quantity` (as typed) is refused."""
    return post_form(
        browser,
        "/factures/nouvelle",
        {
            "client_id": str(client_id),
            "contract_id": "0",
            "payment_terms_days": "30",
            "payment_method": "Virement bancaire",
            "lines-0-designation": "Journée de formation",
            "lines-0-quantity": quantity,
            "lines-0-unit_price": "900,00",
            "lines-0-vat_rate": "20",
            "issue": "Émettre la facture",
        },
    )


def post_one_line_quote(
    sales: FlaskClient, client_id: int, designation: str, particular_terms: str
) -> TestResponse:
    """The new quote form submitted as typed: one line (`designation`, 1 × 49 € HT at 20 %)
    and `particular_terms`."""
    return sales.post(
        f"/devis/nouveau/{client_id}",
        data={
            "csrf_token": logged_in_csrf(sales),
            "lines-0-designation": designation,
            "lines-0-quantity": "1",
            "lines-0-unit_price": "49",
            "lines-0-vat_rate": "20",
            "particular_terms": particular_terms,
            "save": "Enregistrer",
        },
    )


def send_from_sales_page(
    app: Flask, contract_id: int, sales: FlaskClient | None = None
) -> tuple[int, str]:
    """Send the contract's version 1 as sales do, through its page's button (the send view
    also enqueues the page images); the contract's document id and the first signer's link,
    read from the invitation mail (delivered here if a broker holds it). `sales`: a browser
    logged in as a sales user (a new user by default)."""
    sales = sales or login_as(app, Role.SALES)
    response = post_form(sales, "/", {}, f"/contrats/{contract_id}/v1/envoyer")
    assert response.status_code == 302, response.get_data(as_text=True)
    deliver_queued_mails(app)
    outbox = app.extensions["paraphe"].settings.outbox_dir
    invitation = [m for m in outbox_messages(outbox) if "à signer" in subject_of(m)][-1]
    rt = app.extensions["paraphe"]
    with rt.session_factory() as session:
        document_id = get_contract(session, contract_id).versions[0].document_id
    return document_id, signing_link(invitation)


def xmp_metadata(reader: PdfReader) -> bytes:
    """The PDF's XMP metadata, where PDF/A (and Factur-X) declare what the file conforms to."""
    metadata = reader.root_object["/Metadata"].get_object()
    assert isinstance(metadata, StreamObject), "the PDF carries an XMP metadata stream"
    return metadata.get_data()


def outbox_messages(outbox: Path) -> list[Message]:
    if not outbox.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]


def _part(message: Message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type and not part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part in {message['Subject']}")


def body_text(message: Message) -> str:
    """The plain-text part (every mail has one, beside its HTML alternative)."""
    return _part(message, "text/plain")


HOSTILE = "<script>alert(1)</script> & <b>Fils</b>"
"""A name typed with markup: printed as typed in a mail's text, inert in its HTML."""
INERT = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;Fils&lt;/b&gt;"
"""`HOSTILE` as a mail's HTML part must show it."""


def body_html(message: Message) -> str:
    return _part(message, "text/html")


def assert_inert(message: Message) -> None:
    """`HOSTILE` inert in the mail's HTML part, printed as typed in its plain text."""
    html = body_html(message)
    assert INERT in html
    assert "<script>" not in html and "<b>Fils" not in html
    assert HOSTILE in body_text(message)


def subject_of(message: Message) -> str:
    """The Subject header decoded (a non-ASCII subject travels as RFC 2047 encoded words)."""
    return str(make_header(decode_header(str(message["Subject"]))))


def is_code_mail(message: Message) -> bool:
    return "votre code pour signer" in subject_of(message).lower()


def signing_link(message: Message) -> str:
    match = re.search(r"https?://[^/\s]+(/signature/[A-Za-z0-9_\-]{40,})\s", body_text(message))
    assert match, body_text(message)
    return match.group(1)


def download_link(message: Message) -> str:
    """The sealed PDF's link in a completion mail (/signature/document/<token>)."""
    match = re.search(
        r"https?://[^/\s]+(/signature/document/[A-Za-z0-9_\-]{40,})\s", body_text(message)
    )
    assert match, body_text(message)
    return match.group(1)


def last_code(outbox: Path, to: str, *, wait_seconds: float = 30.0) -> str:
    """The one-time code in the latest code mail sent to `to`. Mail goes through the outbox
    and its delivery job: with a real worker it lands within a second or so, so this waits
    for it (inline, it is there at once)."""
    deadline = time.monotonic() + wait_seconds
    while (code := latest_code(outbox_messages(outbox), to)) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no code mail to {to}")
        time.sleep(0.2)
    return code


def latest_code(messages: Sequence[Message], to: str) -> str | None:
    """The one-time code in the latest of `messages` that is a code mail to `to`, if any."""
    for message in reversed(messages):
        if message["To"] == to and is_code_mail(message):
            match = re.search(r"est : (\d{6})\s", body_text(message))
            assert match, body_text(message)
            return match.group(1)
    return None


def deliver_queued_mails(app: Flask) -> int:
    """Deliver here, now, the mails waiting for a worker (a test that starts its worker only
    later); the number delivered."""
    rt = app.extensions["paraphe"]
    with rt.session_factory() as session:
        waiting = session.scalars(
            select(OutgoingMailRecord.id).where(OutgoingMailRecord.status == MailStatus.PENDING)
        ).all()
    for mail_id in waiting:
        delivery.deliver(rt.session_factory, rt.transport, mail_id, clock=utcnow)
    return len(waiting)


def authenticate(app: Flask, browser: FlaskClient, link: str, to: str) -> None:
    """Ask for a one-time code on the signing page and enter it, as the signer would."""
    page = browser.get(link)
    assert page.status_code == 200, page.status_code
    token = csrf_from(page.get_data(as_text=True))
    sent = browser.post(f"{link}/code", data={"csrf_token": token})
    assert sent.status_code == 200, sent.status_code
    code = last_code(app.extensions["paraphe"].settings.outbox_dir, to)
    verified = browser.post(f"{link}/verifier", data={"csrf_token": token, "code": code})
    assert verified.status_code == 302, verified.get_data(as_text=True)[:500]


def signer_by_token(app: Flask, token: str) -> Signer:
    """The signer whose link ends in `token`, detached from its session."""
    return signer_of(app, f"/signature/{token}")


def user_id_of(app: Flask, address: str) -> int:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return find_user(session, address).id


def store_clock_at(rt: Runtime, now: datetime) -> Runtime:
    """`rt` whose filesystem store tells time by `now`: a purge run "on" a date of the test's
    calendar finds the write-once locks of that date ended or not, as the store would then."""
    assert isinstance(rt.store, FilesystemBlobStore)
    return replace(rt, store=FilesystemBlobStore(rt.store.root, clock=lambda: now))


def remove_blob_behind_the_store(rt: Runtime, sha256: str) -> None:
    """The blob lost (a disk failure, an operator's mistake): its file unlinked directly,
    since the store itself refuses to delete a blob its retention still locks."""
    assert isinstance(rt.store, FilesystemBlobStore)
    (rt.store.root / sha256[:2] / sha256[2:4] / sha256).unlink()


SESSION_COOKIE = "session"


def tabs_of(app: Flask, browser: FlaskClient, tabs: int = PARALLEL) -> list[FlaskClient]:
    """`tabs` clients sharing ``browser``'s session: the same person in several tabs."""
    cookie = browser.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    clients = [app.test_client() for _ in range(tabs)]
    for tab in clients:
        tab.set_cookie(SESSION_COOKIE, cookie.value)
    return clients


def fire_together(
    app: Flask, browser: FlaskClient, send: Callable[[FlaskClient], TestResponse]
) -> list[TestResponse]:
    """``send`` run by PARALLEL clients of ``browser``'s session, released by one barrier."""
    return all_at_once([partial(send, tab) for tab in tabs_of(app, browser)])


def generate_clicked_together(app: Flask) -> tuple[FlaskClient, int, list[TestResponse]]:
    """A quote's "generate the contract" clicked PARALLEL times at once by one salesperson:
    (their browser, the quote's id, the answers)."""
    publish_short_cgv(app)
    quote_id = make_quote(app, make_client(app))
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    responses = fire_together(
        app,
        sales,
        lambda tab: tab.post(f"/contrats/generer/{quote_id}", data={"csrf_token": token}),
    )
    return sales, quote_id, responses


PREVIEW_HASH = re.compile(r'name="sha256" value="([0-9a-f]{64})"')


def publish_cgv(
    browser: FlaskClient, data: dict[str, str], *, wait_seconds: float = 0.0
) -> TestResponse:
    """Publish a CGV version as legal does: submit the form (pasted Markdown unless said
    otherwise), read the preview once its PDF is rendered, publish the text it showed.
    Answers the form's response when it refused the submission, else the publication's."""
    page = browser.get("/cgv/nouvelle").get_data(as_text=True)
    submitted = browser.post(
        "/cgv/nouvelle",
        data={"csrf_token": csrf_from(page), "source_format": "markdown", **data},
    )
    if submitted.status_code != 302:
        return submitted
    preview_url = submitted.headers["Location"]
    deadline = time.monotonic() + wait_seconds
    html = browser.get(preview_url).get_data(as_text=True)
    while 'id="preview-pdf-link"' not in html and time.monotonic() < deadline:
        time.sleep(0.1)  # a worker renders the PDF: the page shows its link once done
        html = browser.get(preview_url).get_data(as_text=True)
    shown = PREVIEW_HASH.search(html)
    assert shown is not None, html
    return browser.post(
        f"{preview_url}/publier", data={"csrf_token": csrf_from(html), "sha256": shown[1]}
    )


def problem_fields(problem: dict[str, Any]) -> dict[str, str]:
    """The `errors` of a problem+json (4xx), in their one shape (a list of `{field, message}`:
    reads and writes alike), as `{field: message}`."""
    errors = problem["errors"]
    assert isinstance(errors, list), problem
    assert all(set(e) == {"field", "message"} for e in errors), problem
    return {e["field"]: e["message"] for e in errors}


def response_fields(response: TestResponse) -> dict[str, str]:
    """`problem_fields` of a response, which must be a problem+json."""
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return problem_fields(response.get_json())
