"""The signature frames are drawn exactly where ``signature_boxes`` says, on the last page."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from app.rendering.contract import render_contract_pdf
from app.rendering.contract_document import ContractDocument, Signer
from app.rendering.geometry import (
    MAX_SIGNERS,
    PAGE_HEIGHT,
    PAGE_MARGINS,
    PAGE_WIDTH,
    SIGNATURE_AREA_TOP,
    Rect,
    css_box,
    signature_boxes,
)
from tests.unit.rendering.factory import RenderedContract, sha256_text

FRAME_BORDER = 0.75  # contract.css, .signature-frame
TOLERANCE = 0.01


def test_boxes_are_on_the_page_inside_the_margins_and_apart() -> None:
    boxes = signature_boxes(MAX_SIGNERS)
    for x1, y1, x2, y2 in boxes:
        assert PAGE_MARGINS.left <= x1 < x2 <= PAGE_WIDTH - PAGE_MARGINS.right
        assert PAGE_MARGINS.bottom <= y1 < y2 < SIGNATURE_AREA_TOP <= PAGE_HEIGHT
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 0 or overlap_y <= 0


def test_a_signer_keeps_its_slot_whatever_the_number_of_signers() -> None:
    assert signature_boxes(1) == signature_boxes(MAX_SIGNERS)[:1]
    assert signature_boxes(3) == signature_boxes(MAX_SIGNERS)[:3]
    assert signature_boxes(2) == [(62.0, 436.0, 290.0, 516.0), (305.28, 436.0, 533.28, 516.0)]


@pytest.mark.parametrize("count", [0, -1, MAX_SIGNERS + 1])
def test_signer_count_is_bounded(count: int) -> None:
    with pytest.raises(ValueError):
        signature_boxes(count)


def test_css_box_is_relative_to_the_content_area() -> None:
    box = css_box((62.0, 436.0, 290.0, 516.0))
    assert box.left == pytest.approx(62.0 - PAGE_MARGINS.left)
    assert box.top == pytest.approx(PAGE_HEIGHT - PAGE_MARGINS.top - 516.0)
    assert (box.width, box.height) == (228.0, 80.0)


def _page_drawing(pdf: bytes, page_index: int) -> tuple[list[Rect], list[tuple[float, float, str]]]:
    """Rectangles (``re`` operators) and text runs of a page, in PDF page coordinates."""
    page = PdfReader(io.BytesIO(pdf)).pages[page_index]
    rects: list[Rect] = []
    texts: list[tuple[float, float, str]] = []

    def transform(matrix: list[float], x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = matrix
        return a * x + c * y + e, b * x + d * y + f

    def on_operator(operator: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"re":
            x, y, w, h = (float(v) for v in args)
            (xa, ya), (xb, yb) = transform(cm, x, y), transform(cm, x + w, y + h)
            rects.append((min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)))

    def on_text(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            x, y = transform(cm, tm[4], tm[5])
            texts.append((x, y, text.strip()))

    page.extract_text(visitor_operand_before=on_operator, visitor_text=on_text)
    return rects, texts


def _has_rect(rects: list[Rect], expected: Rect) -> bool:
    return any(
        all(abs(a - b) <= TOLERANCE for a, b in zip(rect, expected, strict=True)) for rect in rects
    )


def _assert_frames_drawn(pdf: bytes, signers: tuple[Signer, ...]) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    last = len(reader.pages) - 1
    rects, texts = _page_drawing(pdf, last)
    for number, (signer, box) in enumerate(
        zip(signers, signature_boxes(len(signers)), strict=True), start=1
    ):
        x1, y1, x2, y2 = box
        # The frame's outer border edge is the box, and the border lies inside it.
        assert _has_rect(rects, box), f"frame {number} not drawn at {box}"
        inner = (x1 + FRAME_BORDER, y1 + FRAME_BORDER, x2 - FRAME_BORDER, y2 - FRAME_BORDER)
        assert _has_rect(rects, inner), f"frame {number} has no border"
        # Its label sits just above it, within its width.
        caption = f"Signataire {number}\u00a0: {signer.name}"
        label = [(x, y) for x, y, text in texts if text == caption]
        assert len(label) == 1, texts
        x, y = label[0]
        assert x1 <= x < x2
        assert y2 < y < y2 + 30
        # Nothing is written inside the frame: it stays empty for the signature.
        assert not [t for t in texts if x1 < t[0] < x2 and y1 < t[1] < y2]
    # The page before holds no frame: the signature page is the last one.
    previous_rects, _ = _page_drawing(pdf, last - 1)
    assert not _has_rect(previous_rects, signature_boxes(1)[0])


def test_frames_on_the_last_page_of_the_full_contract(rendered_contract: RenderedContract) -> None:
    # The document turned its signers into named tuples; the annotation still says plain ones.
    signers = tuple(map(Signer._make, rendered_contract.document.signers))
    _assert_frames_drawn(rendered_contract.pdf, signers)


def test_frames_for_the_largest_number_of_signers(
    make_document: Callable[..., ContractDocument],
) -> None:
    short_cgv = "# CGV\n\nARTICLE 1. OBJET\n\nTexte court."
    signers = tuple(
        Signer(f"Signataire Numéro{i}", f"s{i}@client.example", "Pour le Client")
        for i in range(1, MAX_SIGNERS + 1)
    )
    doc = make_document(cgv_markdown=short_cgv, cgv_sha256=sha256_text(short_cgv), signers=signers)
    _assert_frames_drawn(render_contract_pdf(doc), signers)
