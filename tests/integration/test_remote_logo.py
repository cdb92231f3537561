"""A logo configured as an address (PARAPHE_VENDOR_LOGO=https://…) is fetched once and
carried inside the mails like a local PNG (``cid:``): a remote image in a mail is blocked by
Gmail and Outlook and tells its host who opened the mail. What cannot serve (an HTML page, an
image too large, a PNG that is not one, an error, nobody listening) gives a French reason and
a header with the vendor's name alone, never a link to the remote image. A real HTTP server on
loopback serves each case."""

from __future__ import annotations

import dataclasses
import io
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from PIL import Image

from app.auth.models import Role
from app.branding import MAX_REMOTE_LOGO_BYTES, Branding, LogoUnavailable, fetch_remote_logo
from app.config import Settings
from app.mail import OutgoingMail, build_message
from app.rendering.mail_layout import LOGO_CID, VendorMailLayout
from tests.factories import login_as


def _png(size: tuple[int, int] = (32, 32), noise: bool = False) -> bytes:
    image = Image.new("RGB", size, (31, 78, 140))
    if noise:  # incompressible pixels (a fixed seed): a file far larger than a logo
        pixels = random.Random(0).randbytes(size[0] * size[1] * 3)
        image = Image.frombytes("RGB", size, pixels)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


LOGO = _png()
BIG = _png((600, 600), noise=True)
ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/logo.png": (200, "image/png", LOGO),
    "/page.html": (200, "text/html; charset=utf-8", b"<!doctype html><title>Accueil</title>"),
    "/big.png": (200, "image/png", BIG),
    "/fake.png": (200, "image/png", b"<html>not a png</html>"),
    "/cut.png": (200, "image/png", LOGO[: len(LOGO) // 2]),
    "/huge-canvas.png": (200, "image/png", _png((4000, 10))),
}


@pytest.fixture
def logo_server() -> Iterator[tuple[str, Counter[str]]]:
    """(base address, requests counted by path) of a server on loopback."""
    hits: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[self.path] += 1
            status, media_type, body = ROUTES.get(self.path, (404, "text/plain", b"introuvable"))
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _layout(settings: Settings, url: str) -> VendorMailLayout:
    branding = Branding(logo_path=None, logo_url=url)
    vendor = dataclasses.replace(settings.vendor, branding=branding)
    return VendorMailLayout(vendor, "https://paraphe.example")


def _message(layout: VendorMailLayout) -> Message:
    mail = OutgoingMail(to="a@example.fr", subject="Contrat C-1 à signer", text="Bonjour")
    return message_from_bytes(build_message(mail, "no-reply@example.test", layout).as_bytes())


def _html(message: Message) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_a_png_is_fetched(logo_server: tuple[str, Counter[str]]) -> None:
    base, hits = logo_server
    assert fetch_remote_logo(f"{base}/logo.png") == LOGO
    assert hits["/logo.png"] == 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/page.html", "le serveur envoie « text/html », pas une image PNG"),
        ("/big.png", f"image de plus de {MAX_REMOTE_LOGO_BYTES // 1024} Kio"),
        ("/fake.png", "ce n'est pas une image PNG"),
        ("/cut.png", "image PNG tronquée ou abîmée"),
        ("/huge-canvas.png", "image de 4000 × 10 pixels, 2048 au plus par côté"),
        ("/absent.png", "le serveur a répondu 404 Not Found"),
    ],
)
def test_what_is_not_a_logo_is_refused_with_its_reason(
    logo_server: tuple[str, Counter[str]], path: str, reason: str
) -> None:
    base, _hits = logo_server
    assert len(BIG) > MAX_REMOTE_LOGO_BYTES  # the large case is large
    with pytest.raises(LogoUnavailable) as refused:
        fetch_remote_logo(f"{base}{path}")
    assert str(refused.value) == reason


def test_nobody_listening_is_refused_quickly() -> None:
    with socket.socket() as probe:  # a port just freed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LogoUnavailable) as refused:
        fetch_remote_logo(f"http://127.0.0.1:{port}/logo.png", timeout=2)
    assert str(refused.value).startswith("adresse injoignable (")
    with pytest.raises(LogoUnavailable, match="une adresse https:// d'image est attendue"):
        fetch_remote_logo("file:///etc/passwd")


def test_the_remote_logo_travels_inside_each_mail_fetched_once(
    settings: Settings, logo_server: tuple[str, Counter[str]]
) -> None:
    base, hits = logo_server
    layout = _layout(settings, f"{base}/logo.png")

    messages = [_message(layout) for _ in range(3)]

    assert hits["/logo.png"] == 1  # once per process, not once per mail
    for message in messages:
        [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
        assert image.get_payload(decode=True) == LOGO
        assert image["Content-ID"] == f"<{LOGO_CID}>"
        html = _html(message)
        assert f'src="cid:{LOGO_CID}"' in html
        assert base not in html and "127.0.0.1" not in html  # no remote image in the mail


def test_an_unusable_remote_logo_gives_a_name_only_header_never_a_link(
    settings: Settings, logo_server: tuple[str, Counter[str]], caplog: pytest.LogCaptureFixture
) -> None:
    base, hits = logo_server
    layout = _layout(settings, f"{base}/page.html")

    first, second = _message(layout), _message(layout)

    assert hits["/page.html"] == 1  # retried later (REMOTE_LOGO_RETRY_S), not on every mail
    for message in (first, second):
        assert not [p for p in message.walk() if p.get_content_maintype() == "image"]
        html = _html(message)
        assert "<img" not in html and base not in html
        assert "Éditeur Démo SAS" in html
    assert "Logo distant" in caplog.text and "pas une image PNG" in caplog.text


@pytest.mark.parametrize(("path", "problem"), [("/logo.png", None), ("/big.png", "512 Kio")])
def test_the_identity_panel_says_when_the_mails_cannot_carry_the_remote_logo(
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    logo_server: tuple[str, Counter[str]],
    path: str,
    problem: str | None,
) -> None:
    base, _hits = logo_server
    branding = Branding(logo_path=None, logo_url=f"{base}{path}")
    app = make_app(
        dataclasses.replace(
            settings, vendor=dataclasses.replace(settings.vendor, branding=branding)
        )
    )

    response = login_as(app, Role.ADMIN).get("/admin/utilisateurs")

    assert response.status_code == 200
    panel = response.get_data(as_text=True).split('id="vendor-identity"', 1)[1]
    words = " ".join(panel.split())  # the sentence as read, whatever the template's wrapping
    if problem is None:
        assert 'id="vendor-logo-problem"' not in panel
    else:
        assert (
            f"Ce logo n'est pas repris dans les e-mails : image de plus de {problem}. Ils "
            "partent avec le nom de l'éditeur seul. Indiquez dans <code>PARAPHE_VENDOR_LOGO</code> "
            f"l'adresse d'une image PNG de {problem} au plus, puis redémarrez." in words
        )
