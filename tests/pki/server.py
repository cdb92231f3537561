"""The certomancer test PKI, served over HTTP on 127.0.0.1 (tests and bench/sign.py).

TEST ONLY. :func:`generate_keys` writes fresh keys into a temporary directory:
RSA-3072 for the two CAs (PKCS#1 v1.5 signatures are deterministic, so the
certificates certomancer issues in this process and in the animator
subprocess are byte-identical), ECDSA P-256 for everything else.

:class:`PkiServer` runs ``certomancer … animate`` as a subprocess on a free
port and counts the requests it answers (from its access log), per service.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.loopback import free_port

CONFIG = Path(__file__).with_name("certomancer.yml")
ARCH = "paraphe"
CA_KEYS = ("root", "interm")
LEAF_KEYS = ("interm-ocsp", "tsa", "seal", "signer1", "signer2", "signer3")
SIGNERS = ("signer1", "signer2", "signer3")
PFX_PASSPHRASE = b"test-only-passphrase"
CERTOMANCER = Path(sys.executable).with_name("certomancer")

_REQUEST_LINE = re.compile(r'"(?:GET|POST) /[^/ ]+/(?P<kind>[a-z-]+)/(?P<label>[^/ ]+)')


def generate_keys(key_root: Path) -> None:
    """Fresh TEST-ONLY private keys (unencrypted PEM) under ``key_root/keys``."""
    keys = key_root / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    for label in (*CA_KEYS, *LEAF_KEYS):
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        if label in CA_KEYS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        (keys / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


class PkiServer:
    """certomancer's animator on ``127.0.0.1:port``; :meth:`stop` and :meth:`start` again."""

    def __init__(self, key_root: Path, port: int | None = None) -> None:
        self.key_root = key_root
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = key_root / "animator.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        from certomancer.registry import ArchLabel, CertomancerConfig

        config = CertomancerConfig.from_file(
            str(CONFIG), key_search_dir=str(key_root), external_url_prefix=self.url
        )
        self.arch = config.get_pki_arch(ArchLabel(ARCH))

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def cert_der(self, label: str) -> bytes:
        from certomancer.registry import CertLabel

        der: bytes = self.arch.get_cert(CertLabel(label)).dump()
        return der

    def root_der(self) -> bytes:
        return self.cert_der("root")

    def write_pfx(self, label: str, path: Path) -> Path:
        """The certificate ``label`` with its key and chain (interm, root) as PKCS#12."""
        from certomancer.registry import CertLabel

        data = self.arch.package_pkcs12(
            CertLabel(label),
            certs_to_embed=[CertLabel("interm"), CertLabel("root")],
            password=PFX_PASSPHRASE,
        )
        path.write_bytes(data)
        return path

    def start(self, timeout: float = 20.0) -> None:
        if self._process is not None:
            return
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                str(CERTOMANCER),
                "--config",
                str(CONFIG),
                "--key-root",
                str(self.key_root),
                "--service-url-prefix",
                self.url,
                "animate",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"certomancer exited with {self._process.returncode}: "
                    f"{self.log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"certomancer did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def request_counts(self) -> Counter[str]:
        """Requests answered since :meth:`reset_counts`, by service ("tsa", "ocsp", "crls"...)."""
        text = self.log_path.read_bytes()[self._log_offset :].decode("utf-8", "replace")
        return Counter(m["kind"] for m in _REQUEST_LINE.finditer(text))

    def reset_counts(self) -> None:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0

    def __enter__(self) -> PkiServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
