"""Benchmark: one B-B PAdES signature, Paraphe's signing library against stock pyHanko.

Both paths sign the same ~16-page contract PDF, in the same pre-created visible field, with
the same seal key, without a timestamp authority:

* ours: the key is loaded once with ``signing.load_pkcs12``, then ``signing.sign_pdf`` runs
  per document (parsed key reused, signature size given up front, embedded-font appearance;
  the appearance font is prepared once per process, ~0.3 s paid by the first signature, as in
  a long-running server);
* baseline: stock pyHanko as its documentation shows it, per document
  ``SimpleSigner.load(key.pem, cert.pem, ...)`` then ``signers.sign_pdf(...)``.

By default every seal key type is measured in one run, one after the other: RSA-2048 and
RSA-3072 seals under the dev root (the usual seal-certificate key, and the size new RSA keys
must have) and the dev PKI's ECDSA P-256 seal.
``--key pkcs11`` puts the ECDSA seal in a fresh SoftHSM2 token instead: ours loads it once
with ``signing.load_pkcs11``; stock builds pyHanko's ``PKCS11Signer`` per document.

Each path is warmed up once, then timed ``--iterations`` times; medians are reported.
Both signed outputs are verified once against the dev root, so that a broken path is never
benchmarked. The last line printed is one JSON object (see docs/benchmarks.md) with, per key
measured, ``<key>_ours_ms``, ``<key>_baseline_ms`` and ``<key>_ratio`` (key: rsa, rsa3072, ecdsa,
pkcs11).

Run from the repository root::

    .venv/bin/python bench/sign.py [--quick] [--iterations N]
        [--key both|ecdsa|rsa-2048|rsa-3072|pkcs11]
    .venv/bin/python bench/sign.py --level lta [--quick] [--iterations N]

With ``--level lta`` it instead runs, per document, a certification, three signers and a
B-LTA seal against the certomancer test PKI over HTTP (tests/pki), and prints the HTTP
requests per document: one per timestamp; OCSP/CRL fetched once per certificate, then reused.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

import signing
from signing import (
    DevPki,
    SignatureBox,
    SignatureFieldSpec,
    SignSpec,
)
from signing.devpki import issue_seal_certificate
from tests.shared_fixtures import CGV_FIXTURE  # ../shared, never copied

PARIS = ZoneInfo("Europe/Paris")
FIELD = "signer-1"
SIGNER_NAME = "Marie Curie"
REASON = "Acceptation du contrat CTR-2026-0001"
DEFAULT_ITERATIONS = 30
QUICK_ITERATIONS = 3
# Last-page frame of the first signer (app.rendering.geometry.signature_boxes(n)[0]),
# used when the contract renderer is unavailable and plain WeasyPrint is used instead.
FALLBACK_BOX = (62.0, 436.0, 290.0, 516.0)


# --- the document ---------------------------------------------------------------------------


def _contract_document(cgv_text: str, n_lines: int) -> object:
    """A realistic contract (tests/unit/rendering/factory.py's), ``n_lines`` lines."""
    from app.rendering.contract_document import ParticularTerm
    from tests.unit.rendering.factory import CLIENT, CLIENT_SIGNER, build_document, priced_lines

    return build_document(
        cgv_text,
        client=CLIENT,
        particular_terms=(
            ParticularTerm(
                "Durée et reconduction",
                "Engagement de 12 mois, renouvelable par tacite reconduction.\n\n"
                "Préavis : 3 mois par lettre recommandée avec accusé de réception.",
            ),
        ),
        signers=(CLIENT_SIGNER,),
        **priced_lines(n_lines),
    )


def _render_contract() -> tuple[bytes, tuple[float, float, float, float], str]:
    """The contract through Paraphe's renderer: PDF, first signer's frame, description."""
    from app.rendering.contract import render_contract_pdf
    from app.rendering.geometry import signature_boxes

    cgv_text = CGV_FIXTURE.read_text(encoding="utf-8")
    # A 100-line quote brings the contract with the full CGV to 16 pages.
    pdf = render_contract_pdf(_contract_document(cgv_text, n_lines=100))  # type: ignore[arg-type]
    x1, y1, x2, y2 = signature_boxes(1)[0]
    return pdf, (x1, y1, x2, y2), "app.rendering.contract.render_contract_pdf (CGV 2.2)"


def _render_plain() -> tuple[bytes, tuple[float, float, float, float], str]:
    """Fallback: ~16 pages of French text straight through WeasyPrint."""
    import weasyprint

    paragraph = (
        "<p>Le Prestataire s’engage à fournir au Client l’accès au service dans les "
        "conditions définies au présent contrat. Le Client reconnaît avoir reçu toutes "
        "les informations nécessaires à son engagement, notamment sur les fonctionnalités, "
        "les niveaux de service, la réversibilité et la protection des données à caractère "
        "personnel, conformément au règlement (UE) 2016/679.</p>"
    )
    articles = "".join(f"<h2>Article {n} — Stipulations</h2>{paragraph * 5}" for n in range(1, 26))
    html = (
        "<html><head><style>@page { size: A4; margin: 2cm } body { font-size: 11pt }"
        "</style></head><body><h1>Contrat d’abonnement et de services</h1>"
        f"{articles}<p style='break-before: page'>Fait à Paris. Signatures :</p>"
        "</body></html>"
    )
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf, FALLBACK_BOX, "plain WeasyPrint (renderer unavailable)"


def build_pdf() -> tuple[bytes, tuple[float, float, float, float], str]:
    try:
        return _render_contract()
    except Exception as exc:  # any renderer failure: fall back to plain WeasyPrint, say so
        print(f"note: contract renderer failed ({exc!r}); using plain WeasyPrint", file=sys.stderr)
        return _render_plain()


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


# --- keys -----------------------------------------------------------------------------------


def rsa_seal(pki: DevPki, key_size: int = 2048) -> Path:
    """An RSA seal issued by the dev root: 2048 bits (the key docs/signing.md measured, that
    of most seal certificates in use) or 3072 (what new keys should be, for the EU DSS
    policy after 2026)."""
    root_cert = x509.load_pem_x509_certificate(pki.root_cert_pem)
    root_key = serialization.load_pem_private_key(
        (pki.directory / "dev-root-ca.key").read_bytes(), password=pki.passphrase
    )
    if not isinstance(root_key, ec.EllipticCurvePrivateKey):
        raise SystemExit("the development root key is expected to be ECDSA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    now = datetime.now(UTC)
    cert = issue_seal_certificate(
        (root_cert, root_key),
        key.public_key(),
        common_name=f"Cachet RSA-{key_size} Paraphe (bench)",
        organisation="Paraphe (bench)",
        now=now,
        not_after=now + timedelta(days=30),
    )
    path = pki.directory / f"seal-rsa-{key_size}.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name=b"bench-rsa-seal",
            key=key,
            cert=cert,
            cas=[root_cert],
            encryption_algorithm=serialization.BestAvailableEncryption(pki.passphrase),
        )
    )
    return path


def export_pem(p12_path: Path, passphrase: bytes, directory: Path) -> tuple[Path, Path, Path]:
    """The seal key (encrypted PKCS#8 PEM), its certificate and the chain, for SimpleSigner."""
    key, cert, chain = pkcs12.load_key_and_certificates(p12_path.read_bytes(), passphrase)
    assert key is not None and cert is not None
    key_file, cert_file, chain_file = (
        directory / "seal-key.pem",
        directory / "seal-cert.pem",
        directory / "seal-chain.pem",
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    return key_file, cert_file, chain_file


# --- timing ---------------------------------------------------------------------------------


class Timings:
    """Wall-clock and CPU milliseconds of one path, one entry per timed call."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.output = b""

    def run(self, function: Callable[[], bytes]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.output = function()
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def describe(self) -> str:
        return (
            f"median {self.median:7.1f} ms wall, {self.cpu_median:7.1f} ms CPU "
            f"(wall min {min(self.wall):.1f}, max {max(self.wall):.1f}; "
            f"{len(self.output)} bytes out)"
        )


def compare(
    ours: Callable[[], bytes], baseline: Callable[[], bytes], iterations: int
) -> tuple[Timings, Timings]:
    """Warm each path up once, then time them interleaved (alternating which goes first),
    so that load from elsewhere on the machine hits both alike."""
    ours(), baseline()
    ours_t, baseline_t = Timings(), Timings()
    for i in range(iterations):
        pair = ((ours_t, ours), (baseline_t, baseline))
        for timings, function in pair if i % 2 == 0 else reversed(pair):
            timings.run(function)
    return ours_t, baseline_t


def stock_signer(
    key_file: Path, cert_file: Path, chain_file: Path, passphrase: bytes
) -> Callable[[bytes], bytes]:
    """Stock pyHanko as its documentation shows it: SimpleSigner.load per document."""

    def sign(pdf: bytes) -> bytes:
        signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
            str(key_file),
            str(cert_file),
            ca_chain_files=(str(chain_file),),
            key_passphrase=passphrase,
        )
        assert signer is not None, "SimpleSigner.load failed"
        return _stock_sign(pdf, signer)

    return sign


def _stock_sign(pdf: bytes, signer: signers.Signer) -> bytes:
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        signers.PdfSignatureMetadata(
            field_name=FIELD, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256", reason=REASON
        ),
        signer=signer,
    )
    result: bytes = out.getvalue()
    return result


KEY_DESCRIPTIONS = {
    "rsa": "RSA-2048 seal under the dev root (PKCS#12)",
    "rsa3072": "RSA-3072 seal under the dev root (PKCS#12)",
    "ecdsa": "ECDSA P-256 (dev PKI seal, PKCS#12)",
    "pkcs11": "ECDSA P-256 (dev PKI seal) in a SoftHSM2 token",
}


def measure_key(
    kind: str, pdf: bytes, pki: DevPki, directory: Path, iterations: int
) -> tuple[Timings, Timings] | None:
    """Time ours against stock pyHanko with one key; None (after saying why) if broken."""
    signed_at = datetime.now(PARIS)
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if kind == "pkcs11":
        key, baseline, cleanup = pkcs11_paths(pki, directory)
    else:
        p12_path = (
            pki.pkcs12_path
            if kind == "ecdsa"
            else rsa_seal(pki, 3072 if kind == "rsa3072" else 2048)
        )
        key_file, cert_file, chain_file = export_pem(p12_path, pki.passphrase, directory)
        key = signing.load_pkcs12(p12_path, pki.passphrase)
        baseline = stock_signer(key_file, cert_file, chain_file, pki.passphrase)

    def ours() -> bytes:
        return signing.sign_pdf(pdf, key, SignSpec(FIELD, SIGNER_NAME, signed_at, reason=REASON))

    try:
        # Never benchmark something broken: both outputs must verify.
        for label, function in (("ours", ours), ("baseline", lambda: baseline(pdf))):
            report = signing.verify_pdf(function(), [pki.root_cert_pem])
            if not report.all_intact_and_valid:
                print(
                    f"error: the {label} {kind} signature does not verify: {report}",
                    file=sys.stderr,
                )
                return None
        return compare(ours, lambda: baseline(pdf), iterations)
    finally:
        cleanup()


def pkcs11_paths(
    pki: DevPki, directory: Path
) -> tuple[signing.SigningKey, Callable[[bytes], bytes], Callable[[], None]]:
    """The dev seal key in a fresh SoftHSM2 token: ours (``signing.load_pkcs11`` once) and
    stock pyHanko (a ``PKCS11Signer`` per document on an open session)."""
    import os

    import pkcs11
    from pyhanko.sign.pkcs11 import PKCS11Signer

    from tests.pki.softhsm import SOFTHSM_MODULE, TOKEN_LABEL, USER_PIN, create_token

    private_key, cert, chain = pkcs12.load_key_and_certificates(
        pki.pkcs12_path.read_bytes(), pki.passphrase
    )
    assert isinstance(private_key, ec.EllipticCurvePrivateKey) and cert is not None
    der = serialization.Encoding.DER
    labels = [("seal", cert.public_bytes(der))]
    labels += [(f"ca-{i}", c.public_bytes(der)) for i, c in enumerate(chain)]
    config = create_token(directory / "softhsm", private_key, labels)
    os.environ["SOFTHSM2_CONF"] = str(config)
    chain_labels = [label for label, _ in labels[1:]]
    key = signing.load_pkcs11(
        SOFTHSM_MODULE, TOKEN_LABEL, USER_PIN, cert_label="seal", chain_labels=chain_labels
    )
    # PKCS#11 logs in per application, not per session: stock pyHanko opening and logging in
    # per document (PKCS11SigningContext) fails while our session is open. The stock path
    # therefore gets its own session (logged in through ours) and builds pyHanko's
    # PKCS11Signer per document, which looks up the key and certificates in the token.
    session = pkcs11.lib(SOFTHSM_MODULE).get_token(token_label=TOKEN_LABEL).open()

    def baseline(pdf: bytes) -> bytes:
        signer = PKCS11Signer(
            pkcs11_session=session,
            cert_label="seal",
            key_label="seal",
            other_certs_to_pull=chain_labels,
            # As ours: hash in software, SoftHSM lacks the combined ECDSA-SHA256 mechanism.
            use_raw_mechanism=True,
        )
        return _stock_sign(pdf, signer)

    def close() -> None:
        session.close()
        key.close()

    return key, baseline, close


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 iterations: proves it works")
    parser.add_argument("--iterations", type=int, default=None, help="timed signatures per path")
    parser.add_argument(
        "--key",
        choices=("both", "ecdsa", "rsa-2048", "rsa-3072", "pkcs11"),
        default="both",
        help="both (default): RSA-2048 and RSA-3072 seals under the dev root and the dev PKI's "
        "ECDSA P-256 seal, one after the other; or one of them; pkcs11: the ECDSA seal in a "
        "SoftHSM2 token (ours: load_pkcs11 once; stock: a PKCS11Signer per document)",
    )
    parser.add_argument(
        "--level",
        choices=("b", "lta"),
        default="b",
        help="b: B-B timing against stock pyHanko (default); lta: a full certified "
        "three-signer + B-LTA seal flow against the certomancer test PKI over HTTP, "
        "counting HTTP requests per document",
    )
    args = parser.parse_args(argv)
    iterations = args.iterations
    if iterations is None:
        iterations = QUICK_ITERATIONS if args.quick else DEFAULT_ITERATIONS
    if iterations < 1:
        parser.error("--iterations must be at least 1")
    if args.level == "lta":
        return main_lta(iterations)
    kinds = {
        "both": ["rsa", "rsa3072", "ecdsa"],
        "rsa-2048": ["rsa"],
        "rsa-3072": ["rsa3072"],
    }.get(args.key, [args.key])

    start = time.perf_counter()
    contract, (x1, y1, x2, y2), source = build_pdf()
    render_s = time.perf_counter() - start
    pdf = signing.add_signature_fields(
        contract, [SignatureFieldSpec(FIELD, SignatureBox(page=-1, x1=x1, y1=y1, x2=x2, y2=y2))]
    )
    pages = page_count(pdf)
    print(
        f"document: {pages} pages, {len(pdf) / 1024:.0f} KiB, {source}, "
        f"rendered in {render_s:.1f} s"
    )
    print(
        f"level B-B (no TSA); {iterations} timed signatures per path and key, "
        "after one warm-up, interleaved"
    )
    summary: dict[str, object] = {"bench": "sign", "level": "B-B", "pages": pages}
    with tempfile.TemporaryDirectory(prefix="paraphe-bench-sign-") as tmp:
        pki = signing.ensure_dev_pki(Path(tmp) / "pki")
        for kind in kinds:
            directory = Path(tmp) / kind
            directory.mkdir()
            timings = measure_key(kind, pdf, pki, directory, iterations)
            if timings is None:
                return 1
            ours_t, baseline_t = timings
            ratio = baseline_t.median / ours_t.median
            stock = "PKCS11Signer" if kind == "pkcs11" else "SimpleSigner.load"
            print(f"key: {KEY_DESCRIPTIONS[kind]}")
            print(f"  ours     (key loaded once, signing.sign_pdf):   {ours_t.describe()}")
            print(f"  baseline ({stock} + signers.sign_pdf): {baseline_t.describe()}")
            print(
                f"  speed-up: {ratio:.2f}x wall, "
                f"{baseline_t.cpu_median / ours_t.cpu_median:.2f}x CPU (goal: 8x)"
            )
            summary[f"{kind}_ours_ms"] = round(ours_t.median, 2)
            summary[f"{kind}_baseline_ms"] = round(baseline_t.median, 2)
            summary[f"{kind}_ratio"] = round(ratio, 2)
    summary["iterations"] = iterations
    print(json.dumps(summary))
    return 0


# --- B-LTA: HTTP requests per document --------------------------------------------------------

LTA_SIGNERS = ("Zoë Müller", "Jean Dupont", "李小龙")


def lta_fields() -> list[SignatureFieldSpec]:
    boxes = [
        SignatureFieldSpec(f"signer-{i + 1}", SignatureBox(page=-1, x1=60, y1=y, x2=300, y2=y + 80))
        for i, y in enumerate((80, 200, 320))
    ]
    return [*boxes, SignatureFieldSpec("seal")]


def main_lta(documents: int) -> int:
    """Certification + three signers + B-LTA seal per document, one TrustServices per process."""
    from tests.pki.server import PFX_PASSPHRASE, SIGNERS, PkiServer, generate_keys

    contract, _box, source = _render_plain_short()
    with tempfile.TemporaryDirectory(prefix="paraphe-bench-lta-") as tmp:
        generate_keys(Path(tmp))
        with PkiServer(Path(tmp)) as server:
            seal = signing.load_pkcs12(
                server.write_pfx("seal", Path(tmp) / "seal.p12"), PFX_PASSPHRASE
            )
            signer_keys = [
                signing.load_pkcs12(server.write_pfx(s, Path(tmp) / f"{s}.p12"), PFX_PASSPHRASE)
                for s in SIGNERS
            ]
            services = signing.TrustServices(
                [server.root_der()], signing.TimestampAuthority(server.tsa_url, timeout_seconds=60)
            )
            per_document: list[dict[str, int]] = []
            timings = Timings()
            try:
                for _ in range(documents):
                    services.pool.reset_counts()
                    server.reset_counts()
                    timings.run(lambda: _lta_document(contract, seal, signer_keys, services))
                    client = services.pool.request_counts()
                    served = server.request_counts()
                    per_document.append(
                        {
                            "client_total": sum(client.values()),
                            "server_total": sum(served.values()),
                            "tsa": served.get("tsa", 0),
                            "ocsp": served.get("ocsp", 0),
                            "crls": served.get("crls", 0),
                        }
                    )
                report = signing.verify_pdf(timings.output, [server.root_der()])
            finally:
                services.close()
    if not report.all_ok:
        print(f"error: the B-LTA document does not verify: {report}", file=sys.stderr)
        return 1
    timestamps = sum(
        1
        for s in report.signatures
        if s.kind is signing.SignatureKind.DOCUMENT_TIMESTAMP or s.timestamped
    )
    print(f"document: {page_count(contract)} pages, {source}; certification + 3 signers + seal")
    print(f"timestamps per document: {timestamps}")
    for index, counts in enumerate(per_document, start=1):
        print(
            f"  document {index}: {counts['client_total']} HTTP requests "
            f"(TSA {counts['tsa']}, OCSP {counts['ocsp']}, CRL {counts['crls']}; "
            f"certomancer answered {counts['server_total']}), {timings.wall[index - 1]:.0f} ms"
        )
    steady = per_document[-1]
    print(
        json.dumps(
            {
                "bench": "sign",
                "level": "B-LTA",
                "documents": documents,
                "timestamps_per_document": timestamps,
                "first_document_requests": per_document[0]["client_total"],
                "requests_per_document": steady["client_total"],
                "tsa_requests_per_document": steady["tsa"],
                "revocation_requests_first": per_document[0]["ocsp"] + per_document[0]["crls"],
                "ms_per_document": round(timings.median, 1),
            }
        )
    )
    return 0


def _lta_document(
    contract: bytes,
    seal: signing.SealKey,
    signer_keys: list[signing.SealKey],
    services: signing.TrustServices,
) -> bytes:
    now = datetime.now(PARIS)
    pdf = signing.certify_pdf(
        contract, seal, lta_fields(), SignSpec("certification", "Paraphe", now), services=services
    )
    for index, (key, name) in enumerate(zip(signer_keys, LTA_SIGNERS, strict=True)):
        pdf = signing.sign_pdf(
            pdf, key, SignSpec(f"signer-{index + 1}", name, now, reason=REASON), services=services
        )
    return signing.seal_pdf(pdf, seal, SignSpec("seal", "Paraphe", now), services)


def _render_plain_short() -> tuple[bytes, tuple[float, float, float, float], str]:
    import weasyprint

    html = (
        "<html><head><style>@page { size: A4; margin: 2cm }</style></head><body>"
        "<h1>Contrat d’abonnement</h1><p>Stipulations.</p>"
        "<p style='break-before: page'>Fait à Paris. Signatures :</p></body></html>"
    )
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf, FALLBACK_BOX, "2-page WeasyPrint contract"


if __name__ == "__main__":
    sys.exit(main())
