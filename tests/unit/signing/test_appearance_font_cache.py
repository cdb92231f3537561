"""The appearance font is prepared once per process, and the shortcuts change nothing drawn."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.writer import PdfFileWriter

from signing import BUNDLED_FONT, DevPki, SealKey, SignSpec, sign_pdf, verify_pdf
from signing import font_preparation as preparation
from signing import font_subsetting as subsetting

LATIN_TEXT = (
    "Signé électroniquement par\nZoë Łukasiewicz-Müller — « AVAWAY » Tête-à-tête\n"
    "le 22/11/2026 13:05 CET\nMotif : 100 € … ‘fin’"
)


@pytest.fixture
def prepare_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """An empty process-wide font cache, and the fonts its loader is called for."""
    calls: list[Path] = []
    real_prepare = preparation._prepare_font

    def counting_prepare(font: Path) -> preparation.PreparedFont:
        calls.append(font)
        return real_prepare(font)

    monkeypatch.setattr(preparation, "_PREPARED_FONTS", preparation._PreparedFontCache())
    monkeypatch.setattr(preparation, "_prepare_font", counting_prepare)
    yield calls


def _client(now: datetime, name: str) -> SignSpec:
    return SignSpec("client", name, now, reason="Acceptation du contrat", location="Paris")


def test_the_font_is_prepared_once_across_signatures(
    prepare_calls: list[Path],
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
) -> None:
    # Latin names (drawn with the Latin cut) and Cyrillic and Greek ones (the
    # whole font) all come from the one preparation of the bundled font.
    names = ["Marie Curie", "Zoë Łukasiewicz-Müller", "Иван Петров", "Σωκράτης"]
    signed = [sign_pdf(prepared_pdf, seal_key, _client(now, name)) for name in names]

    assert prepare_calls == [BUNDLED_FONT]
    for pdf in signed:
        assert verify_pdf(pdf, [dev_pki.root_cert_pem]).all_ok


def test_concurrent_first_signatures_prepare_the_font_once(
    prepare_calls: list[Path], prepared_pdf: bytes, seal_key: SealKey, now: datetime
) -> None:
    threads = 4
    barrier = threading.Barrier(threads)
    results: list[bytes] = []
    errors: list[BaseException] = []

    def sign(i: int) -> None:
        try:
            barrier.wait()
            results.append(sign_pdf(prepared_pdf, seal_key, _client(now, f"Signataire {i}")))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=sign, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors
    assert len(results) == threads
    assert prepare_calls == [BUNDLED_FONT]


def test_latin_text_uses_the_small_cut_and_anything_else_the_whole_font() -> None:
    prepared = preparation.prepared_font(BUNDLED_FONT)
    assert prepared.latin is not None
    assert len(prepared.latin.subset_source) * 4 < len(prepared.full.subset_source)

    assert prepared.variant_for(LATIN_TEXT) is prepared.latin
    assert prepared.variant_for("Иван Петров") is prepared.full
    # A character outside the cut, even a space, sends the text to the whole font.
    assert prepared.variant_for("Jean\u2009Dupont") is prepared.full
    assert prepared.variant_for("e\u0301") is prepared.full


def test_a_font_with_little_to_cut_is_used_whole(cjk_font: Path) -> None:
    prepared = preparation.prepared_font(cjk_font)
    assert prepared.latin is None
    assert prepared.variant_for("Zoë") is prepared.full


def test_a_font_that_cannot_be_cut_is_used_whole(
    prepare_calls: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_cut(*_args: object) -> None:
        raise ValueError("unexpected table")

    monkeypatch.setattr(preparation, "_latin_cut", broken_cut)
    with caplog.at_level(logging.WARNING, logger="signing.appearance"):
        signed = sign_pdf(prepared_pdf, seal_key, _client(now, "Zoë Müller"))

    assert verify_pdf(signed, [dev_pki.root_cert_pem]).all_ok
    assert preparation.prepared_font(BUNDLED_FONT).latin is None
    assert any("used whole" in r.getMessage() for r in caplog.records)


def _draw(
    variant: preparation.FontVariant, text: str
) -> tuple[list[tuple[bytes, float]], list[tuple[str, int]], bytes]:
    """Shape ``text`` line by line; return positions, widths by character, embedded font."""
    writer = PdfFileWriter(stream_xrefs=False)  # type: ignore[no-untyped-call]
    engine = subsetting.PdfUnitsGlyphAccumulator(
        writer=writer, font=variant, font_size=10, obj_stream=None
    )
    lines = []
    for line in text.split("\n"):
        shaped = engine.shape(line)
        # Glyph ids differ between the cut and the whole font; positions must not.
        lines.append((re.sub(rb"<[0-9a-f]+>", b"<>", shaped.graphics_ops), shaped.x_advance))
    engine.prepare_write()  # type: ignore[no-untyped-call]
    widths = dict(engine._glyphs.values())
    by_char = sorted((chars, widths[cid]) for cid, chars in engine._cid_to_unicode.items())
    descriptor = engine.cidfont_obj["/FontDescriptor"].get_object()
    font_program: bytes = descriptor["/FontFile2"].get_object().data
    return lines, by_char, font_program


def test_the_latin_cut_draws_exactly_what_the_whole_font_draws() -> None:
    prepared = preparation.prepared_font(BUNDLED_FONT)
    assert prepared.latin is not None

    cut_lines, cut_widths, cut_program = _draw(prepared.latin, LATIN_TEXT)
    full_lines, full_widths, full_program = _draw(prepared.full, LATIN_TEXT)

    assert cut_lines == full_lines  # same advances and kerning, line by line
    assert cut_widths == full_widths
    assert len(cut_program) <= len(full_program)


def test_the_embedded_subset_has_the_bounds_fonttools_would_compute() -> None:
    # The subset is saved without fontTools' bounds recalculation (which
    # re-encodes every glyph); the values written instead must be the same.
    _lines, _widths, program = _draw(preparation.prepared_font(BUNDLED_FONT).full, LATIN_TEXT)
    ours = TTFont(BytesIO(program))
    recomputed_bytes = BytesIO()
    TTFont(BytesIO(program), recalcBBoxes=True).save(recomputed_bytes)
    recomputed = TTFont(BytesIO(recomputed_bytes.getvalue()))

    for attr in ("xMin", "yMin", "xMax", "yMax"):
        assert getattr(ours["head"], attr) == getattr(recomputed["head"], attr), attr
    for attr in ("advanceWidthMax", "minLeftSideBearing", "minRightSideBearing", "xMaxExtent"):
        assert getattr(ours["hhea"], attr) == getattr(recomputed["hhea"], attr), attr
    # maxp keeps the whole font's maxima: bounds the subset stays within.
    for attr in ("maxPoints", "maxContours", "maxCompositePoints", "maxComponentDepth"):
        assert getattr(ours["maxp"], attr) >= getattr(recomputed["maxp"], attr), attr
    assert "GPOS" not in ours and "MATH" not in ours and "glyf" in ours


def _signature_page_text(pdf: bytes, path: Path) -> str:
    """What pdftotext reads on page 2 (the signature's) of `pdf`, written to `path` first."""
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_a_name_outside_the_cut_is_drawn_with_the_whole_font(
    prepared_pdf: bytes, seal_key: SealKey, now: datetime, tmp_path: Path
) -> None:
    signed = sign_pdf(prepared_pdf, seal_key, _client(now, "Иван Петров"))

    text = _signature_page_text(signed, tmp_path / "signed.pdf")
    assert "Иван Петров" in text
    assert "Signé électroniquement par" in text


def _font_programs(pdf: bytes) -> list[bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf))
    programs = []
    for ref in reader.xrefs.explicit_refs_in_revision(reader.xrefs.total_revisions - 1):
        # pyHanko leaves PdfFileReader.get_object unannotated.
        obj = reader.get_object(ref)  # type: ignore[no-untyped-call]
        if isinstance(obj, dict) and "/FontFile2" in obj:
            programs.append(obj["/FontFile2"].get_object().data)
    return programs


def test_the_same_signer_reuses_the_embedded_font_program_whatever_the_time(
    monkeypatch: pytest.MonkeyPatch,
    prepared_pdf: bytes,
    seal_key: SealKey,
    dev_pki: DevPki,
    now: datetime,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(subsetting, "_FONT_FILES", subsetting._FontFileCache(8))
    subsets: list[str] = []
    real_subset = subsetting.PdfUnitsGlyphAccumulator._subset_truetype

    def counting(self: subsetting.PdfUnitsGlyphAccumulator) -> None:
        subsets.append(self.tt.getGlyphOrder()[0])
        real_subset(self)

    monkeypatch.setattr(subsetting.PdfUnitsGlyphAccumulator, "_subset_truetype", counting)
    times = [now, now + timedelta(days=1, hours=5, minutes=13)]  # other digits drawn
    same = [sign_pdf(prepared_pdf, seal_key, _client(t, "Zoë Müller")) for t in times]
    assert len(subsets) == 1  # the second signature took the program from the cache
    other = sign_pdf(prepared_pdf, seal_key, _client(times[0], "Quentin Wybrecht"))
    assert len(subsets) == 2  # other letters: another subset

    first, second = (_font_programs(pdf) for pdf in same)
    assert len(first) == 1 and first == second
    assert _font_programs(other) != first
    drawn = [
        (same[0], "Zoë Müller", times[0]),
        (same[1], "Zoë Müller", times[1]),
        (other, "Quentin Wybrecht", times[0]),
    ]
    for index, (pdf, name, at) in enumerate(drawn):
        when = at.strftime("%d/%m/%Y %H:%M")
        assert verify_pdf(pdf, [dev_pki.root_cert_pem]).all_ok
        text = _signature_page_text(pdf, tmp_path / f"signed-{index}.pdf")
        assert name in text and when in text, text
