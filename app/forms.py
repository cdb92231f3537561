"""Glue between domain validation errors and WTForms field errors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Form

from app.errors import FieldErrors


class FrenchMeta:
    # WTForms' own translations: built-in validator messages in French (no Babel needed).
    locales = ("fr_FR", "fr")


class FrenchForm(FlaskForm):
    class Meta(FrenchMeta):
        """WTForms reads the form's options from an inner class named Meta."""


class FrenchSubForm(Form):
    """For repeated sub-forms (FieldList); the CSRF token belongs to the enclosing form."""

    class Meta(FrenchMeta):
        """Same French messages as FrenchForm."""


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
