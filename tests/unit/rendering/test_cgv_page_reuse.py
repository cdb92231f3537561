"""The service's path reuses the CGV pages laid out once: same text as a single render of
the full HTML, every "page X / Y" and running header right over the whole document."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.rendering import contract
from app.rendering.contract import render_contract_pdf
from app.rendering.contract_document import ContractDocument
from app.rendering.jinja import DEFAULT_TEMPLATE_DIRS, make_environment
from tests.unit.rendering.factory import build_document, sha256_text


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def short_cgv(cgv_markdown: str) -> str:
    """A third of the real CGV: several pages, a lean test."""
    return cgv_markdown[: len(cgv_markdown) // 3]


@pytest.fixture(scope="module")
def make_short(short_cgv: str) -> Callable[..., ContractDocument]:
    return lambda **changes: build_document(short_cgv, **changes)


def test_reused_cgv_pages_give_the_same_text_as_a_full_render(
    make_short: Callable[..., ContractDocument], short_cgv: str
) -> None:
    contract.clear_cgv_page_cache()
    doc = make_short()
    naive = _pages(render_contract_pdf(doc, reuse_cgv_pages=False, pdf_variant=None))
    ours = _pages(render_contract_pdf(doc, pdf_variant=None))
    assert len(contract._cgv_cache) == 1  # the CGV section was laid out apart, and kept
    assert ours == naive
    total = len(ours)
    assert total >= 6  # cover, quote, terms, CGV pages, precedence, signatures
    cgv_pages = [n for n, text in enumerate(ours, 1) if short_cgv[:40] in text.replace("\n", " ")]
    assert cgv_pages, "the CGV text is in the document"
    for number, text in enumerate(ours, start=1):
        assert f"page {number} / {total}" in text
        assert doc.reference in text


def test_a_second_contract_reuses_the_layout_under_its_own_header(
    make_short: Callable[..., ContractDocument],
) -> None:
    contract.clear_cgv_page_cache()
    env = make_environment()
    how = contract._Rendering(
        env, contract.CONTRACT_TEMPLATE, contract.CONTRACT_ASSETS_DIR, None, None
    )
    first = contract._cgv_document(make_short(), how)
    other = make_short(contract_number="CTR-2026-0099", version=3)
    assert contract._cgv_document(other, how) is first  # same CGV text: no new layout
    pages = _pages(render_contract_pdf(other, env=env, pdf_variant=None))
    assert len(contract._cgv_cache) == 1
    for number, text in enumerate(pages, start=1):
        assert "Contrat CTR-2026-0099 — version 3" in text
        assert "CTR-2026-0001" not in text
        assert f"page {number} / {len(pages)}" in text


def test_another_cgv_text_is_laid_out_again(make_short: Callable[..., ContractDocument]) -> None:
    contract.clear_cgv_page_cache()
    env = make_environment()
    how = contract._Rendering(
        env, contract.CONTRACT_TEMPLATE, contract.CONTRACT_ASSETS_DIR, None, None
    )
    text = "# Article 1\n\nLe service est fourni « en l’état »."
    first = contract._cgv_document(make_short(), how)
    second = contract._cgv_document(
        make_short(cgv_markdown=text, cgv_sha256=sha256_text(text)), how
    )
    assert second is not None and second is not first
    assert len(second.pages) == 1
    relabelled = contract._cgv_document(make_short(cgv_label="2.3"), how)
    assert relabelled is not first  # the label is printed in the section: another layout


def test_a_template_without_parts_is_rendered_whole(
    make_short: Callable[..., ContractDocument], tmp_path: Path
) -> None:
    contract.clear_cgv_page_cache()
    (tmp_path / "contract.html").write_text("<p>Contrat {{ doc.contract_number }}</p>")
    env = make_environment((tmp_path, *DEFAULT_TEMPLATE_DIRS))
    how = contract._Rendering(
        env, contract.CONTRACT_TEMPLATE, contract.CONTRACT_ASSETS_DIR, None, None
    )
    assert contract._cgv_document(make_short(), how) is None
    assert not contract._cgv_cache


def test_reused_pages_look_exactly_like_a_full_render(
    make_short: Callable[..., ContractDocument], tmp_path: Path
) -> None:
    """Pixel for pixel (rasterised by poppler), every page of the service's assembly equals
    the single render of the full HTML: same header, footer, CGV page, frame content."""
    import subprocess

    from PIL import Image, ImageChops

    contract.clear_cgv_page_cache()
    doc = make_short(contract_number="CTR-2026-0123")
    images: dict[str, list[Path]] = {}
    for name, pdf in (
        ("ours", render_contract_pdf(doc)),
        ("full", render_contract_pdf(doc, reuse_cgv_pages=False)),
    ):
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "36", "-png", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
            check=True,
        )
        images[name] = sorted(tmp_path.glob(f"{name}-*.png"))
    assert len(images["ours"]) == len(images["full"]) >= 6
    for ours, full in zip(images["ours"], images["full"], strict=True):
        with Image.open(ours) as a, Image.open(full) as b:
            diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox()
        assert diff is None, (ours.name, diff)
