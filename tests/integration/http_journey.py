"""A sales user and a contract's two signers driven over HTTP against `paraphe serve`, the way
their browsers do it: forms with their CSRF tokens, session cookies, the links and one-time
codes read from the outbox. Each request is timed under the name of its step.

Used by tests/integration/test_multi_process.py (one journey across two servers) and
bench/journey.py (many journeys at once)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from stdnum import luhn

from tests.integration.helpers import body_text, last_code, outbox_messages, signing_link

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
Timings = dict[str, list[float]]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    location: str | None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def csrf(self) -> str:
        match = _CSRF.search(self.text)
        assert match, f"no CSRF token in the page ({self.status})"
        return match.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a reply of its own: each request is timed alone, as a browser shows it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Browser:
    """One person's browser on one server: its cookies, and the times of its requests."""

    base: str
    forwarded_for: str | None = None
    """The address a trusted reverse proxy would report (PARAPHE_TRUSTED_PROXIES=1): many
    simulated people, each counted by the rate limits as themselves."""
    timings: Timings = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def on(self, base: str) -> Browser:
        """The same person (same cookies) talking to another server."""
        other = Browser(base, self.forwarded_for, self.timings)
        other._opener = self._opener
        return other

    def request(self, step: str, path: str, form: dict[str, str] | None = None) -> Reply:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"X-Forwarded-For": self.forwarded_for} if self.forwarded_for else {}
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=120) as response:
                reply = Reply(response.status, response.read(), response.headers["Location"])
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, exc.read(), exc.headers["Location"])
        self.timings.setdefault(step, []).append(time.perf_counter() - started)
        return reply

    def get(self, step: str, path: str) -> Reply:
        return self.request(step, path)

    def post(self, step: str, path: str, form: dict[str, str], csrf: str) -> Reply:
        return self.request(step, path, {"csrf_token": csrf, **form})


def _redirected(reply: Reply, pattern: str) -> int:
    """The id in the Location of a 302 (`pattern` has one group), or a readable failure."""
    assert reply.status == 302, f"{reply.status}: {reply.text[:800]}"
    assert reply.location is not None
    match = re.search(pattern, reply.location)
    assert match, reply.location
    return int(match.group(1))


def siren(seed: int) -> str:
    """A valid SIREN (Luhn key) of its own for each simulated company."""
    body = f"{10_000_000 + seed:08d}"
    return body + luhn.calc_check_digit(body)


def log_in(browser: Browser, email: str, password: str) -> None:
    page = browser.get("GET /connexion", "/connexion")
    reply = browser.post(
        "POST /connexion", "/connexion", {"email": email, "password": password}, page.csrf()
    )
    assert reply.status == 302, f"login refused ({reply.status})"


def create_client(browser: Browser, number: int, signer_email: str) -> int:
    page = browser.get("GET /clients/nouveau", "/clients/nouveau")
    reply = browser.post(
        "POST /clients/nouveau",
        "/clients/nouveau",
        {
            "legal_name": f"Client n° {number} SAS",
            "country": "FR",
            "siren": siren(number),
            "address": "3 place de la Bourse",
            "postal_code": "69002",
            "city": "Lyon",
            "signer_name": "Zoë Martin",
            "signer_email": signer_email,
        },
        page.csrf(),
    )
    return _redirected(reply, r"/clients/(\d+)")


QUOTE_LINES = {
    "lines-0-designation": "Abonnement Premium (12 mois)",
    "lines-0-quantity": "12",
    "lines-0-unit_price": "1 250,00",
    "lines-0-vat_rate": "20",
    "lines-1-designation": "Formation initiale (jours)",
    "lines-1-quantity": "1,5",
    "lines-1-unit_price": "900",
    "lines-1-vat_rate": "20",
}
"""A quote's lines as sales type them in its form (French decimals): 16 350,00 € HT at 20 %."""


def create_quote(browser: Browser, client_id: int) -> int:
    page = browser.get("GET /devis/nouveau/<client>", f"/devis/nouveau/{client_id}")
    reply = browser.post(
        "POST /devis/nouveau/<client>",
        f"/devis/nouveau/{client_id}",
        {**QUOTE_LINES, "save": "Enregistrer le devis"},
        page.csrf(),
    )
    return _redirected(reply, r"/devis/(\d+)")


def generate_contract(browser: Browser, quote_id: int) -> int:
    page = browser.get("GET /devis/<id>", f"/devis/{quote_id}")
    reply = browser.post(
        "POST /contrats/generer/<quote>", f"/contrats/generer/{quote_id}", {}, page.csrf()
    )
    if "/generations/" not in (reply.location or ""):
        return _redirected(reply, r"/contrats/(\d+)")  # rendered already (inline queue)
    # A worker renders it: poll the follow page's JSON, as its script does.
    generation_id = _redirected(reply, r"/contrats/generations/(\d+)")
    deadline = time.monotonic() + 120
    while True:
        state = json.loads(
            browser.get(
                "GET /contrats/generations/<id>/suivi.json",
                f"/contrats/generations/{generation_id}/suivi.json",
            ).body
        )
        if state["contract_url"]:
            return int(state["contract_url"].rstrip("/").rsplit("/", 1)[1])
        assert state["poll_after"], state  # refused: the message says why
        assert time.monotonic() < deadline, f"contract not generated: {state}"
        time.sleep(0.1)


def send_for_signature(browser: Browser, contract_id: int) -> None:
    page = browser.get("GET /contrats/<id>", f"/contrats/{contract_id}")
    reply = browser.post(
        "POST /contrats/<id>/v1/envoyer", f"/contrats/{contract_id}/v1/envoyer", {}, page.csrf()
    )
    assert reply.status == 302, reply.status


def invitation_link(outbox: Path, to: str, seconds: float = 30) -> str:
    """The signing link mailed to `to` (/signature/<token>), waited for."""

    def invitation(message: Message) -> bool:
        return message["To"] == to and "ouvrez ce lien" in body_text(message)

    deadline = time.monotonic() + seconds
    while True:
        found = [m for m in outbox_messages(outbox) if invitation(m)]
        if found:
            return signing_link(found[-1])
        assert time.monotonic() < deadline, f"no signing link mailed to {to}"
        time.sleep(0.05)


def sign(signer: Browser, outbox: Path, link: str, to: str) -> float:
    """Open the link, ask for a code, enter it from the outbox, sign; the instant (monotonic)
    the signature was answered."""
    page = signer.get("GET /signature/<token>", link)
    assert page.status == 200, page.status
    csrf = page.csrf()
    sent = signer.post("POST /signature/<token>/code", f"{link}/code", {}, csrf)
    assert sent.status == 200, f"{sent.status}: {sent.text[:500]}"
    code = last_code(outbox, to)
    verified = signer.post(
        "POST /signature/<token>/verifier", f"{link}/verifier", {"code": code}, csrf
    )
    assert verified.status == 302, f"{verified.status}: {verified.text[:500]}"
    page = signer.get("GET /signature/<token>", link)
    assert 'id="sign"' in page.text, "the consent form is not shown after the code"
    done = signer.post(
        "POST /signature/<token>", link, {"accept_cgv": "oui", "agree": "oui"}, page.csrf()
    )
    answered = time.monotonic()
    assert done.status == 302, f"{done.status}: {done.text[:500]}"
    return answered


def wait_signed_pdf(
    browser: Browser, contract_id: int, seconds: float = 120, poll: float = 0.1
) -> tuple[bytes, float]:
    """The sealed PDF of version 1 as the sales user downloads it, polled until the seal is
    archived (404 before); with the instant (monotonic) it was first there."""
    deadline = time.monotonic() + seconds
    path = f"/contrats/{contract_id}/v1/signe.pdf"
    while True:
        reply = browser.request("GET /contrats/<id>/v1/signe.pdf (attente)", path)
        if reply.status == 200:
            return reply.body, time.monotonic()
        assert reply.status == 404, reply.status
        assert time.monotonic() < deadline, f"no sealed PDF after {seconds} s"
        time.sleep(poll)


@dataclass(frozen=True)
class Journey:
    """What a journey produced: the contract, its sealed PDF, and when each thing happened."""

    contract_id: int
    signed_pdf: bytes
    last_signature_at: float
    sealed_at: float


def journey(
    sales: Browser,
    signers: Callable[[], Browser],
    outbox: Path,
    *,
    number: int,
    password: str,
    sales_email: str,
    signer_email: str,
    poll: float = 0.1,
) -> Journey:
    """Log in, create a client and a quote, generate the contract, send it; its client then the
    sales user (the vendor's countersigner) sign in browsers from `signers()`; wait for the
    sealed PDF on `sales`' server, asking every `poll` seconds."""
    log_in(sales, sales_email, password)
    client_id = create_client(sales, number, signer_email)
    quote_id = create_quote(sales, client_id)
    contract_id = generate_contract(sales, quote_id)
    send_for_signature(sales, contract_id)
    sign(signers(), outbox, invitation_link(outbox, signer_email), signer_email)
    last = sign(signers(), outbox, invitation_link(outbox, sales_email), sales_email)
    pdf, sealed = wait_signed_pdf(sales, contract_id, poll=poll)
    return Journey(contract_id, pdf, last, sealed)
