"""pytest plugin: the certomancer test PKI over HTTP for the whole session.

Loaded from tests/conftest.py through ``pytest_plugins``. The server is
started lazily by the first test that asks for it and stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from signing import SealKey, load_pkcs12
from tests.pki.server import PFX_PASSPHRASE, SIGNERS, PkiServer, generate_keys


@dataclass(frozen=True)
class TestPki:
    """Where the running PKI is and what it issued (TEST-ONLY keys)."""

    __test__ = False  # not a test class

    server: PkiServer
    root_der: bytes
    seal_pfx: Path
    signer_pfx: tuple[Path, ...]
    passphrase: bytes

    @property
    def tsa_url(self) -> str:
        return self.server.tsa_url


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    root = tmp_path_factory.mktemp("certomancer")
    generate_keys(root)
    server = PkiServer(root)
    server.start()
    try:
        yield TestPki(
            server=server,
            root_der=server.root_der(),
            seal_pfx=server.write_pfx("seal", root / "seal.p12"),
            signer_pfx=tuple(server.write_pfx(s, root / f"{s}.p12") for s in SIGNERS),
            passphrase=PFX_PASSPHRASE,
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pki_seal_key(test_pki: TestPki) -> SealKey:
    return load_pkcs12(test_pki.seal_pfx, test_pki.passphrase)


@pytest.fixture(scope="session")
def pki_signer_keys(test_pki: TestPki) -> tuple[SealKey, ...]:
    return tuple(load_pkcs12(p, test_pki.passphrase) for p in test_pki.signer_pfx)
