"""The form side of the money rules (WTForms only, no Flask): one French decimal field, the
VAT rate choices, and one helper that puts ``line_problems`` on the lines' sub-forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from app.pricing.decimals import parse_decimal
from app.pricing.vat import VatRate

VAT_CHOICES = [SelectChoice(f"{rate.value:f}", rate.label) for rate in VatRate]

NOT_A_NUMBER = "Indiquez un nombre (ex. 1 234,56)."


class FrenchDecimalField(Field):
    """A number as French users type it: "1 234,56", "1234.56", "12". Blank gives ``None``
    (say ``InputRequired`` when it is not optional); anything else that is not a number is
    refused with ``message`` (French), and shown back as typed. At most ``max_length``
    characters are read (a number typed by a person is short)."""

    widget = TextInput()
    data: Decimal | None

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        message: str = NOT_A_NUMBER,
        max_length: int = 20,
        **kwargs: Any,
    ) -> None:
        self.message = message
        self.max_length = max_length
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        raw = valuelist[0] if valuelist else ""
        if not isinstance(raw, str) or not raw.strip():
            return  # blank, or not text (refused by name by ``app.forms.check_typed_input``)
        if len(raw) > self.max_length:
            raise ValueError(f"{self.max_length} caractères au maximum.")
        value = parse_decimal(raw)
        if value is None:
            raise ValueError(self.message)
        self.data = value

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data:f}"

    def is_blank(self) -> bool:
        """Nothing typed (what tells a blank line of a form from a line to check)."""
        if self.raw_data:
            return not str(self.raw_data[0]).strip()
        return self.data is None


def attach_line_errors(form: Any, line_forms: Sequence[Any], problems: Mapping[str, str]) -> None:
    """Each problem on its field: ``lines-<i>-<field>`` on the field of ``line_forms[i]`` (the
    sub-forms the checked lines came from, blank ones left out), any other key on the form's
    field of that name, and what has no field (``lines``, ``total``…) on the form itself."""
    for key, message in problems.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            index = int(parts[1])
            field = line_forms[index]._fields.get(parts[2]) if index < len(line_forms) else None
            if field is not None:
                field.errors = [*field.errors, message]
                continue
        field = form._fields.get(key)
        if field is not None and key != "lines":
            field.errors = [*field.errors, message]
        else:
            form.form_errors = [*form.form_errors, message]
