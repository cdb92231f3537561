"""Glue between domain validation errors and WTForms field errors, and the checks every form
field gets, whatever its form (see `FrenchMeta`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, FieldList, Form, FormField, PasswordField, StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from app.errors import FieldErrors
from app.plaintext import text_problem

NOT_TEXT = (
    "Un fichier ou une valeur non textuelle a été envoyé à la place du texte attendu : "
    "saisissez la valeur dans le champ."
)


class _NotText(str):
    """Stands in the form data for a value that is not text (a file sent in `multipart`, a JSON
    number…): the field sees an empty string, and `check_typed_input` refuses it by name."""


_NOT_TEXT = _NotText()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def check_typed_input(form: Any, field: Field) -> None:
    """First validator of every field: a file or other non-text value is refused; so are
    control characters (TAB/LF/CR allowed in a multi-line field) and, in a single-line field,
    bidirectional overrides (`app.plaintext.text_problem`). One error per field, replacing the
    field's own (its converter's message about an empty or strange value would mislead)."""
    raw = getattr(field, "raw_data", None) or []
    if any(isinstance(value, _NotText) for value in raw):
        field.errors[:] = []
        raise StopValidation(NOT_TEXT)
    if isinstance(field, PasswordField):
        return  # never printed nor stored in clear: any character the user can type goes
    multiline = isinstance(field, TextAreaField)
    if isinstance(field, StringField) and isinstance(field.data, str):
        values = [field.data]
    else:
        values = [value for value in raw if isinstance(value, str)]
    for value in values:
        if problem := text_problem(value, multiline=multiline):
            field.errors[:] = []
            raise StopValidation(problem)


class FrenchMeta(DefaultMeta):
    # WTForms' own translations: built-in validator messages in French (no Babel needed).
    locales = ("fr_FR", "fr")

    def wrap_formdata(self, form: Any, formdata: Any) -> Any:
        """Flask-WTF hands files and form fields together; no form of this project takes a
        file, so a file (or a JSON non-string) becomes the `_NOT_TEXT` marker: refused by the
        field's validator with a field error instead of crashing its converter (a 500)."""
        data = super().wrap_formdata(form, formdata)
        if data is None or not hasattr(data, "items"):
            return data
        items = list(data.items(multi=True))
        if all(isinstance(value, str) for _name, value in items):
            return data
        return MultiDict(
            [(name, value if isinstance(value, str) else _NOT_TEXT) for name, value in items]
        )

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        """Every field of every form gets `check_typed_input` first; a single-line text field
        is also stripped of surrounding blanks (a pasted tab there is not content)."""
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, FieldList | FormField):
            return field  # their sub-fields are bound here too, one by one
        field.validators = [check_typed_input, *field.validators]
        if isinstance(field, StringField) and not isinstance(field, TextAreaField | PasswordField):
            field.filters = [_strip, *field.filters]
        return field


class FrenchForm(FlaskForm):
    class Meta(FrenchMeta):
        """WTForms reads the form's options from an inner class named Meta."""


class FrenchSubForm(Form):
    """For repeated sub-forms (FieldList); the CSRF token belongs to the enclosing form."""

    class Meta(FrenchMeta):
        """Same French messages as FrenchForm."""


def add_missing_field_errors(form: FlaskForm, exc: FieldErrors) -> None:
    """After a form's own validation failed: the domain's errors for the fields it did not
    already fault, so that one submission shows every problem (not the SIREN's only once the
    required fields are filled)."""
    for name, message in exc.errors.items():
        field = form._fields.get(name)
        if field is not None and not field.errors:
            field.errors = [*field.errors, message]


def apply_field_errors(form: FlaskForm, exc: FieldErrors) -> None:
    """Attach each domain error to its form field (names match), the rest to the form."""
    leftovers: list[str] = []
    for name, message in exc.errors.items():
        field = form._fields.get(name)
        if field is None:
            leftovers.append(message)
        else:
            field.errors = [*field.errors, message]
    if leftovers:
        form.form_errors = [*form.form_errors, *leftovers]
