"""Creating every signature field in one first revision."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from signing import (
    InvalidPdfError,
    InvalidSpecError,
    SignatureBox,
    SignatureFieldError,
    SignatureFieldSpec,
    add_signature_fields,
)


def _fields(pdf: bytes) -> dict[str, tuple[bool, list[float], int]]:
    """name -> (signed?, widget rectangle, index of the page holding the widget)."""
    reader = PdfFileReader(BytesIO(pdf))
    pages = [reader.root["/Pages"]["/Kids"][i].get_object() for i in range(2)]
    result = {}
    for name, value, ref in enumerate_sig_fields(reader):
        field = ref.get_object()
        page = field["/P"].get_object()
        result[name] = (value is not None, [float(v) for v in field["/Rect"]], pages.index(page))
    return result


def test_adds_visible_and_invisible_fields_as_an_incremental_update(
    contract_pdf: bytes, prepared_pdf: bytes
) -> None:
    # The original bytes are untouched: the fields are an appended revision.
    assert prepared_pdf.startswith(contract_pdf)
    fields = _fields(prepared_pdf)
    assert fields == {
        "client": (False, [60.0, 80.0, 300.0, 170.0], 1),  # page -1 = the last of two
        "seal": (False, [0.0, 0.0, 0.0, 0.0], 0),
    }


def test_refuses_a_field_that_already_exists(prepared_pdf: bytes) -> None:
    with pytest.raises(SignatureFieldError, match="already exist: client"):
        add_signature_fields(prepared_pdf, [SignatureFieldSpec("client")])


def test_refuses_repeated_names(contract_pdf: bytes) -> None:
    with pytest.raises(InvalidSpecError, match="repeated: a"):
        add_signature_fields(contract_pdf, [SignatureFieldSpec("a"), SignatureFieldSpec("a")])


def test_refuses_a_page_that_does_not_exist(contract_pdf: bytes) -> None:
    box = SignatureBox(page=2, x1=10, y1=10, x2=100, y2=50)
    with pytest.raises(SignatureFieldError, match="page 2 does not exist"):
        add_signature_fields(contract_pdf, [SignatureFieldSpec("x", box)])


def test_refuses_a_box_outside_the_page(contract_pdf: bytes) -> None:
    box = SignatureBox(page=0, x1=500, y1=10, x2=700, y2=50)  # A4 is 595 pt wide
    with pytest.raises(SignatureFieldError, match="outside page"):
        add_signature_fields(contract_pdf, [SignatureFieldSpec("x", box)])


@pytest.mark.parametrize(
    ("x1", "y1", "x2", "y2"),
    [(100, 10, 50, 50), (10, 60, 100, 50), (10, 10, float("nan"), 50)],
)
def test_box_must_be_well_formed(x1: float, y1: float, x2: float, y2: float) -> None:
    with pytest.raises(InvalidSpecError):
        SignatureBox(page=0, x1=x1, y1=y1, x2=x2, y2=y2)


@pytest.mark.parametrize("name", ["", "a.b", "tab\there"])
def test_field_name_must_be_simple(name: str) -> None:
    with pytest.raises(InvalidSpecError):
        SignatureFieldSpec(name)


def test_rejects_input_that_is_not_a_pdf() -> None:
    with pytest.raises(InvalidPdfError):
        add_signature_fields(b"<html>not a pdf</html>", [SignatureFieldSpec("x")])
