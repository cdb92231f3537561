"""Fixtures for the signing library: a dev PKI, a small contract PDF, a local TSA.

Everything runs in-process or on 127.0.0.1: no app, no database, no network.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import weasyprint
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import attributes, general
from pyhanko.sign.timestamps import DummyTimeStamper

from signing import (
    DevPki,
    SealKey,
    SignatureBox,
    SignatureFieldSpec,
    add_signature_fields,
    ensure_dev_pki,
    load_pkcs12,
)
from signing import keys as signing_keys

PARIS = ZoneInfo("Europe/Paris")


def drawn_after_signing(pdf: bytes, page: int, content: bytes) -> bytes:
    """`pdf` with `content` drawn on `page` in a new revision, as a later edit would."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    # pyHanko leaves add_stream_to_page and write unannotated (as signing/fields.py notes).
    writer.add_stream_to_page(page, writer.add_object(generic.StreamObject(stream_data=content)))  # type: ignore[no-untyped-call]
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


PDFSIG = "/usr/bin/pdfsig"

# Where the visible field goes on the last page (PDF points, origin bottom left).
CLIENT_BOX = SignatureBox(page=-1, x1=60, y1=80, x2=300, y2=170)

CONTRACT_HTML = """
<html><head><style>@page { size: A4; margin: 2cm }</style></head><body>
<h1>Contrat de prestation</h1>
<p>Entre la société Exemple SAS et son client, il est convenu ce qui suit.</p>
<p style="break-before: page">Page de signature. Fait à Paris, en deux exemplaires.</p>
</body></html>
"""


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return ensure_dev_pki(tmp_path_factory.mktemp("pki") / "dev")


@pytest.fixture(scope="session")
def seal_key(dev_pki: DevPki) -> SealKey:
    return load_pkcs12(dev_pki.pkcs12_path, dev_pki.passphrase)


@pytest.fixture(scope="session")
def contract_pdf() -> bytes:
    pdf: bytes = weasyprint.HTML(string=CONTRACT_HTML).write_pdf()
    return pdf


@pytest.fixture(scope="session")
def prepared_pdf(contract_pdf: bytes) -> bytes:
    """The contract with a visible field for the client and an invisible one for the seal."""
    return add_signature_fields(
        contract_pdf,
        [SignatureFieldSpec("client", CLIENT_BOX), SignatureFieldSpec("seal")],
    )


@pytest.fixture
def signing_certificate_builds(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The arguments of every build of the signing-certificate-v2 attribute from now on,
    wherever it is made (pyHanko's modules, the keys'): stock pyHanko rebuilds it at every
    signature (about 12 ms of asn1crypto work), a loaded key only once, at load time."""
    calls: list[object] = []
    real = general.as_signing_certificate_v2

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    for module in (general, attributes, signing_keys):
        monkeypatch.setattr(module, "as_signing_certificate_v2", counting)
    return calls


@pytest.fixture
def now() -> datetime:
    return datetime.now(PARIS)


@pytest.fixture
def pdfsig(tmp_path: Path) -> Callable[[bytes], list[str]]:
    """Run poppler's pdfsig; one block of its output per signed field, in document order."""

    def run(pdf: bytes) -> list[str]:
        path = tmp_path / "to-check.pdf"
        path.write_bytes(pdf)
        result = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False)
        blocks = (result.stdout + result.stderr).split("Signature #")[1:]
        return [b for b in blocks if "is not signed" not in b]

    return run


@pytest.fixture
def client_box() -> SignatureBox:
    return CLIENT_BOX


@pytest.fixture(scope="session")
def cjk_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny TrueType font covering ASCII, French accents and 李小龙 (every glyph a box).

    No CJK font is installed here, and the library must not rely on system
    fonts anyway: this stands in for e.g. Noto Sans CJK.
    """
    chars = [chr(c) for c in range(0x20, 0x7F)] + list("éèêëàâçîïôöùûüÉÈÀÇ李小龙")
    names = [".notdef"] + [f"uni{ord(c):04X}" for c in chars]
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        if name != "uni0020":
            pen.moveTo((50, 0))
            pen.lineTo((50, 700))
            pen.lineTo((550, 700))
            pen.lineTo((550, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in chars})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (600, 50) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable(
        {"familyName": "ParapheTestCJK", "styleName": "Regular", "psName": "ParapheTestCJK-Regular"}
    )
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    path = tmp_path_factory.mktemp("fonts") / "ParapheTestCJK.ttf"
    builder.save(str(path))
    return path


@dataclass(frozen=True)
class LocalTsa:
    url: str
    root_pem: bytes


@pytest.fixture(scope="session")
def local_tsa() -> Iterator[LocalTsa]:
    """An RFC 3161 TSA over HTTP on 127.0.0.1, backed by pyHanko's DummyTimeStamper."""
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA Root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    # DummyTimeStamper signs with RSA keys only.
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    tsa_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(root_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            response = asyncio.run(stamper.async_request_tsa_response(request)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(response)))
            self.end_headers()
            self.wfile.write(response)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalTsa(
            url=f"http://127.0.0.1:{server.server_address[1]}/tsa",
            root_pem=root.public_bytes(serialization.Encoding.PEM),
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def broken_tsa_url() -> Iterator[str]:
    """A loopback HTTP server that answers every timestamp request with a 500."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_error(500, "TSA out of order")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def unused_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"
