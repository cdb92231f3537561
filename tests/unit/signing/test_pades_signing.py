"""Signing pre-created fields: validity (pyHanko and poppler), appearance, TSA, errors."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pyhanko.sign.signers.pdf_signer import PdfSigningSession

from signing import (
    BUNDLED_FONT,
    AppearanceStyle,
    Coverage,
    DevPki,
    ModificationLevel,
    PadesLevel,
    SealKey,
    SignatureBox,
    SignatureFieldError,
    SigningError,
    SigningTimeSource,
    SignSpec,
    TimestampAuthority,
    TimestampError,
    sign_pdf,
    verify_pdf,
)

ACCENTED = "Zoë Łukasiewicz-Müller"
CJK = "李小龙"


def _client_spec(now: datetime, name: str = ACCENTED, **kwargs: Any) -> SignSpec:
    return SignSpec(
        field_name="client",
        signer_name=name,
        signed_at=now,
        reason="Acceptation du contrat",
        location="Paris",
        **kwargs,
    )


def _seal_spec(now: datetime) -> SignSpec:
    return SignSpec(field_name="seal", signer_name="Paraphe", signed_at=now, reason="Scellement")


def _words_on_last_page(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """pdftotext's words on the last page as (text, x1, y1, x2, y2), PDF coordinates."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "2", "-l", "2", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    page = re.search(r'<page width="[\d.]+" height="([\d.]+)"', out)
    assert page is not None
    height = float(page.group(1))
    words = []
    pattern = (
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    )
    for x1, y1, x2, y2, text in re.findall(pattern, out):
        # pdftotext measures from the top; PDF from the bottom.
        words.append(
            (html.unescape(text), float(x1), height - float(y2), float(x2), height - float(y1))
        )
    return words


def _fonts(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_visible_then_invisible_signature_validate_in_pyhanko_and_poppler(
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
    pdfsig: Callable[[bytes], list[str]],
) -> None:
    signed_once = sign_pdf(prepared_pdf, seal_key, _client_spec(now))
    sealed = sign_pdf(signed_once, seal_key, _seal_spec(now))

    # Each signature is an incremental update over the previous revision.
    assert signed_once.startswith(prepared_pdf) and sealed.startswith(signed_once)

    report = verify_pdf(sealed, [dev_pki.root_cert_pem])
    assert report.all_intact_and_valid and report.all_ok
    client, seal = report.signatures
    assert (client.field_name, seal.field_name) == ("client", "seal")
    for sig in (client, seal):
        assert sig.intact and sig.valid and sig.trusted
        assert sig.signer_common_name == "Cachet Paraphe (développement)"
        assert sig.pades_level is PadesLevel.B_B
        assert not sig.timestamped
        assert sig.signing_time_source is SigningTimeSource.SIGNER_CLAIM
        assert sig.signing_time is not None
        assert abs((sig.signing_time - now).total_seconds()) < 120
        assert sig.docmdp_ok is True
        assert sig.problem is None
    assert client.claimed_signer_name == ACCENTED
    # The client's signature is followed by the seal: a legitimate form-filling update.
    assert client.coverage is Coverage.ENTIRE_REVISION
    assert client.modification_level is ModificationLevel.FORM_FILLING
    assert seal.coverage is Coverage.ENTIRE_FILE
    assert seal.modification_level is ModificationLevel.NONE

    first, last = pdfsig(sealed)
    assert "Signature Field Name: client" in first
    assert "Signature is Valid" in first
    assert "Signature Field Name: seal" in last
    assert "Signature is Valid" in last
    assert "Total document signed" in last
    assert "ETSI.CAdES.detached" in last and "SHA-256" in last


def test_appearance_draws_name_date_reason_inside_the_box_with_an_embedded_font(
    prepared_pdf: bytes,
    seal_key: SealKey,
    now: datetime,
    client_box: SignatureBox,
    tmp_path: Path,
) -> None:
    signed = sign_pdf(prepared_pdf, seal_key, _client_spec(now))

    words = _words_on_last_page(signed, tmp_path)
    in_box = [
        w
        for w in words
        if client_box.x1 <= w[1]
        and w[3] <= client_box.x2
        and client_box.y1 <= w[2]
        and w[4] <= client_box.y2
    ]
    text = " ".join(w[0] for w in in_box)
    assert "Signé électroniquement par" in text
    assert ACCENTED in text
    assert now.strftime("%d/%m/%Y %H:%M") in text
    assert "Motif : Acceptation du contrat" in text
    assert "Lieu : Paris" in text
    # Nothing of the stamp spills out of the field (pyHanko's font-unit bug would).
    outside = {w[0] for w in words} & {"électroniquement", "Łukasiewicz-Müller", "Acceptation"}
    assert outside <= {w[0] for w in in_box}

    fonts = _fonts(signed, tmp_path)
    dejavu = [line for line in fonts.splitlines() if "DejaVuSans" in line]
    assert dejavu and all(" yes yes yes " in line for line in dejavu)  # embedded, subset, unicode
    assert "Courier" not in fonts


def test_cjk_name_signs_and_round_trips_even_without_a_cjk_font(
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="signing.appearance"):
        signed = sign_pdf(prepared_pdf, seal_key, _client_spec(now, name=CJK))

    (report,) = verify_pdf(signed, [dev_pki.root_cert_pem]).signatures
    assert report.ok
    assert report.claimed_signer_name == CJK
    # DejaVu has no CJK glyphs: the gap is reported, not silently drawn as boxes.
    assert any(CJK[0] in r.getMessage() for r in caplog.records)


def test_cjk_name_uses_the_first_configured_font_that_covers_it(
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
    cjk_font: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    style = AppearanceStyle(fonts=(BUNDLED_FONT, cjk_font))
    with caplog.at_level(logging.WARNING, logger="signing.appearance"):
        signed = sign_pdf(prepared_pdf, seal_key, _client_spec(now, name=CJK, appearance=style))

    assert not caplog.records
    assert verify_pdf(signed, [dev_pki.root_cert_pem]).all_ok
    assert "ParapheTestCJK" in _fonts(signed, tmp_path)
    assert CJK in " ".join(w[0] for w in _words_on_last_page(signed, tmp_path))


def test_accented_name_keeps_the_bundled_font_when_it_covers_it(
    prepared_pdf: bytes, seal_key: SealKey, now: datetime, cjk_font: Path, tmp_path: Path
) -> None:
    style = AppearanceStyle(fonts=(BUNDLED_FONT, cjk_font))
    signed = sign_pdf(prepared_pdf, seal_key, _client_spec(now, appearance=style))

    fonts = _fonts(signed, tmp_path)
    assert "DejaVuSans" in fonts and "ParapheTestCJK" not in fonts


def test_missing_field_is_an_error_by_default(
    prepared_pdf: bytes, seal_key: SealKey, now: datetime
) -> None:
    spec = SignSpec(field_name="nobody", signer_name="X", signed_at=now)
    with pytest.raises(SignatureFieldError, match="no signature field named 'nobody'"):
        sign_pdf(prepared_pdf, seal_key, spec)


def test_missing_field_is_created_invisible_when_allowed(
    contract_pdf: bytes, seal_key: SealKey, dev_pki: DevPki, now: datetime
) -> None:
    spec = SignSpec("seal", "Paraphe", now, existing_fields_only=False)
    signed = sign_pdf(contract_pdf, seal_key, spec)

    (report,) = verify_pdf(signed, [dev_pki.root_cert_pem]).signatures
    assert report.field_name == "seal" and report.ok


def test_a_field_cannot_be_signed_twice(
    prepared_pdf: bytes, seal_key: SealKey, now: datetime
) -> None:
    signed = sign_pdf(prepared_pdf, seal_key, _client_spec(now))
    with pytest.raises(SignatureFieldError, match="already signed"):
        sign_pdf(signed, seal_key, _client_spec(now))


def test_naive_signing_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SignSpec("client", "X", datetime(2025, 1, 1, 12, 0))  # noqa: DTZ001


def test_size_is_reserved_up_front_without_a_dry_run(
    monkeypatch: pytest.MonkeyPatch, prepared_pdf: bytes, seal_key: SealKey, now: datetime
) -> None:
    async def no_estimate(*_args: object, **_kwargs: object) -> int:
        raise AssertionError("pyHanko estimated the signature size with a dry run")

    monkeypatch.setattr(PdfSigningSession, "estimate_signature_container_size", no_estimate)
    assert sign_pdf(prepared_pdf, seal_key, _client_spec(now))


@pytest.mark.parametrize("tsa_fixture", ["unused_port_url", "broken_tsa_url"])
def test_timestamp_authority_failure_raises_instead_of_signing_without(
    prepared_pdf: bytes,
    seal_key: SealKey,
    now: datetime,
    tsa_fixture: str,
    request: pytest.FixtureRequest,
) -> None:
    url = request.getfixturevalue(tsa_fixture)  # nothing listening / HTTP 500
    tsa = TimestampAuthority(url, timeout_seconds=5)
    with pytest.raises(TimestampError, match=re.escape(url)):
        sign_pdf(prepared_pdf, seal_key, _client_spec(now, timestamp_authority=tsa))


def test_timestamp_authority_makes_a_b_t_signature(
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
    local_tsa: Any,  # conftest.LocalTsa
    pdfsig: Callable[[bytes], list[str]],
) -> None:
    tsa = TimestampAuthority(local_tsa.url)
    signed = sign_pdf(prepared_pdf, seal_key, _client_spec(now, timestamp_authority=tsa))

    (report,) = verify_pdf(signed, [dev_pki.root_cert_pem, local_tsa.root_pem]).signatures
    assert report.ok
    assert report.timestamped
    assert report.pades_level is PadesLevel.B_T
    assert report.signing_time_source is SigningTimeSource.TIMESTAMP
    assert report.signing_time is not None
    assert abs((report.signing_time - now).total_seconds()) < 120
    (block,) = pdfsig(signed)
    assert "Signature is Valid" in block and "Total document signed" in block


def test_refuses_to_run_inside_an_event_loop(
    prepared_pdf: bytes, seal_key: SealKey, now: datetime
) -> None:
    async def from_async_code() -> bytes:
        return sign_pdf(prepared_pdf, seal_key, _client_spec(now))

    with pytest.raises(SigningError, match=r"asyncio\.to_thread"):
        asyncio.run(from_async_code())

    async def the_right_way() -> bytes:
        return await asyncio.to_thread(sign_pdf, prepared_pdf, seal_key, _client_spec(now))

    assert asyncio.run(the_right_way()).startswith(prepared_pdf)
