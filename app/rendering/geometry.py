"""Page and signature-box geometry: the one definition shared by the template and signing.

Coordinates are PDF points (1/72 inch) on an A4 page, origin at the BOTTOM-LEFT corner, the
convention of PDF rectangles (``/Rect``, ``/MediaBox``) and of pyHanko's ``SigFieldSpec``
``box=(x1, y1, x2, y2)``.

The contract's signature page is its LAST page. On it, signer ``i`` (0-based, in the order
of ``ContractDocument.signers``) has the empty frame ``signature_boxes(n)[i]``; the template
draws each frame's outer border edge exactly on that rectangle (the border lies inside it),
with the signer's label just above the frame. The e-signature step creates one signature
field per signer on the last page with exactly that rectangle.

Slots do not depend on the number of signers: signer ``i`` is always in slot ``i`` (two
columns, filled row by row from the top), so a contract re-rendered with one more signer
keeps the earlier frames in place.
"""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[float, float, float, float]
"""(x1, y1, x2, y2) in PDF points, origin bottom-left, x1 < x2 and y1 < y2."""

PAGE_WIDTH = 595.28
PAGE_HEIGHT = 841.89
"""A4 in points, as written in the PDF's /MediaBox."""


@dataclass(frozen=True)
class PageMargins:
    top: float
    right: float
    bottom: float
    left: float


PAGE_MARGINS = PageMargins(top=72.0, right=56.0, bottom=64.0, left=56.0)
"""Page margins in points. The running header and the "page X / Y" footer live in them."""

SIGNATURE_COLUMNS = 2
SIGNATURE_ROWS = 4
MAX_SIGNERS = SIGNATURE_COLUMNS * SIGNATURE_ROWS

SIGNATURE_BOX_WIDTH = 228.0
SIGNATURE_BOX_HEIGHT = 80.0
SIGNATURE_LABEL_HEIGHT = 30.0
"""Height of the label band drawn just above each frame (name, role, email)."""
_COLUMN_X1 = (62.0, PAGE_WIDTH - 62.0 - SIGNATURE_BOX_WIDTH)
_FIRST_ROW_Y2 = 516.0
_ROW_PITCH = SIGNATURE_BOX_HEIGHT + SIGNATURE_LABEL_HEIGHT + 12.0

SIGNATURE_AREA_TOP = _FIRST_ROW_Y2 + SIGNATURE_LABEL_HEIGHT
"""Everything else on the signature page stays above this line (y, bottom-left origin)."""


def signature_boxes(n_signers: int) -> list[Rect]:
    """The frames of ``n_signers`` signers on the last page, in signer order.

    Raises ``ValueError`` for fewer than 1 or more than ``MAX_SIGNERS`` signers.
    """
    if not 1 <= n_signers <= MAX_SIGNERS:
        raise ValueError(f"de 1 à {MAX_SIGNERS} signataires, pas {n_signers}")
    boxes: list[Rect] = []
    for index in range(n_signers):
        row, column = divmod(index, SIGNATURE_COLUMNS)
        x1 = _COLUMN_X1[column]
        y2 = _FIRST_ROW_Y2 - row * _ROW_PITCH
        boxes.append((x1, y2 - SIGNATURE_BOX_HEIGHT, x1 + SIGNATURE_BOX_WIDTH, y2))
    return boxes


@dataclass(frozen=True)
class CssBox:
    """A rectangle in CSS points, relative to the top-left corner of the page's content area."""

    left: float
    top: float
    width: float
    height: float

    def style(self) -> str:
        """An inline ``style`` value positioning an absolutely positioned element."""
        return (
            f"left: {self.left:.3f}pt; top: {self.top:.3f}pt; "
            f"width: {self.width:.3f}pt; height: {self.height:.3f}pt;"
        )


def css_box(rect: Rect, margins: PageMargins = PAGE_MARGINS) -> CssBox:
    """Convert a PDF rectangle to CSS coordinates inside the page's content area."""
    x1, y1, x2, y2 = rect
    return CssBox(
        left=x1 - margins.left,
        top=(PAGE_HEIGHT - margins.top) - y2,
        width=x2 - x1,
        height=y2 - y1,
    )
