"""The one-line verdict of /verify and the verification API, on real signed PDFs: intact and
signed by whom and when, or modified after whose signature (integrity named before any
certificate question); French with dates in words, English on request."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.clock import PARIS
from app.rendering.french import format_datetime
from app.signatures.rules import SEAL_FIELD
from app.signatures.verdict import verdict
from signing import (
    DevPki,
    SealKey,
    SignatureFieldSpec,
    SignSpec,
    VerificationReport,
    add_signature_fields,
    ensure_dev_pki,
    sign_pdf,
    verify_pdf,
)
from tests.unit.signing.conftest import CLIENT_BOX, drawn_after_signing

# pyHanko writes the signer's claimed time from the clock (not the spec's), so the expected
# words are built from the time the file states, and their shape checked apart.
IN_WORDS = re.compile(r"le \d{1,2}(er)? [a-zéû]+ \d{4} à \d{1,2}\u00a0h\u00a0\d{2} ;")


@pytest.fixture(scope="module")
def signed(contract_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, DevPki]:
    from signing import load_pkcs12

    pki = ensure_dev_pki(tmp_path_factory.mktemp("pki") / "dev")
    key: SealKey = load_pkcs12(pki.pkcs12_path, pki.passphrase)
    prepared = add_signature_fields(
        contract_pdf,
        [SignatureFieldSpec("signature-1", CLIENT_BOX), SignatureFieldSpec(SEAL_FIELD)],
    )
    now = datetime.now(UTC)  # the test PKI's certificates start now (whatever the clock says)
    once = sign_pdf(prepared, key, SignSpec("signature-1", "Marie Dupont", now))
    return sign_pdf(once, key, SignSpec(SEAL_FIELD, "Paraphe", now)), pki


def test_a_genuine_document_is_intact_signed_by_whom_and_when(
    signed: tuple[bytes, DevPki],
) -> None:
    pdf, pki = signed
    report = verify_pdf(pdf, [pki.root_cert_pem])
    at = report.signatures[0].signing_time
    assert at is not None
    said = verdict(report)
    assert said.ok
    assert said.summary == (
        f"Document intact, signé par Marie Dupont le {format_datetime(at)} ; "
        "cachet de la plateforme valide"
    )
    assert IN_WORDS.search(said.summary), said.summary
    assert said.details[0].startswith("Signature de Marie Dupont (champ « signature-1 ») : intègre")
    assert said.details[1].startswith("Cachet de la plateforme")
    english = verdict(report, "en").summary
    assert english.startswith("Document intact, signed by Marie Dupont on ")
    assert english.endswith(f" at {at.astimezone(PARIS):%H:%M} (Paris time); platform seal valid")
    assert at.astimezone(PARIS).strftime("%B %Y") in english


def test_a_tampered_byte_names_the_signer_not_the_certificate(
    signed: tuple[bytes, DevPki],
) -> None:
    pdf, pki = signed
    tampered = bytearray(pdf)
    tampered[10] ^= 0x01  # in the header's binary comment: still a PDF, covered by both
    said = verdict(verify_pdf(bytes(tampered), [pki.root_cert_pem]))
    assert not said.ok
    assert said.summary == "Document modifié après la signature de Marie Dupont"
    assert "modifié après cette signature" in said.details[0]
    assert not any("certificat" in line for line in said.details)
    assert verdict(verify_pdf(bytes(tampered), []), "en").summary == (
        "Document modified after Marie Dupont signed it"
    )


def test_a_drawing_added_after_signing_is_a_modification(signed: tuple[bytes, DevPki]) -> None:
    pdf, pki = signed
    drawn = drawn_after_signing(pdf, 1, b"0 0 1 rg 100 100 50 20 re f")
    said = verdict(verify_pdf(drawn, [pki.root_cert_pem]))
    assert said.summary == "Document modifié après la signature de Marie Dupont"


def test_an_unknown_authority_is_said_after_integrity(
    signed: tuple[bytes, DevPki], tmp_path: Path
) -> None:
    pdf, _pki = signed
    stranger = ensure_dev_pki(tmp_path / "other-pki")
    report = verify_pdf(pdf, [stranger.root_cert_pem])
    at = report.signatures[0].signing_time
    assert at is not None
    said = verdict(report)
    assert not said.ok
    assert said.summary == (
        f"Document intact, signé par Marie Dupont le {format_datetime(at)} ; "
        "cachet de la plateforme non reconnu ; certificat non reconnu pour Marie Dupont"
    )
    assert "n'est pas émis par une autorité reconnue" in said.details[0]


def test_an_unsigned_pdf_says_so(contract_pdf: bytes, signed: tuple[bytes, DevPki]) -> None:
    said = verdict(verify_pdf(contract_pdf, [signed[1].root_cert_pem]))
    assert not said.ok and said.summary == "Ce PDF ne contient aucune signature."
    assert said.details == ()


def test_a_name_starting_with_a_vowel_is_elided_after_de(signed: tuple[bytes, DevPki]) -> None:
    """« la signature d'Élodie Dupré », « Signature d'Élodie Dupré (champ …) », never
    « de Élodie »: the same French helper as the rest of the product."""
    pdf, pki = signed
    tampered = bytearray(pdf)
    tampered[10] ^= 0x01
    report = verify_pdf(bytes(tampered), [pki.root_cert_pem])
    renamed = VerificationReport(
        tuple(
            replace(s, claimed_signer_name="Élodie Dupré") if s.field_name == "signature-1" else s
            for s in report.signatures
        )
    )
    said = verdict(renamed)
    assert said.summary == "Document modifié après la signature d'Élodie Dupré"
    assert said.details[0].startswith("Signature d'Élodie Dupré (champ « signature-1 ») : ")
    assert verdict(renamed, "en").summary == "Document modified after Élodie Dupré signed it"
    invalid = VerificationReport(
        (
            replace(
                report.signatures[0], claimed_signer_name="Anna Lenoir", intact=True, valid=False
            ),
        )
    )
    assert verdict(invalid).summary == "Signature d'Anna Lenoir invalide : elle ne se vérifie pas"
