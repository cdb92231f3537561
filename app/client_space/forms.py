"""The space's forms (every one carries its CSRF token)."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, HiddenField

from app.forms import FrenchForm


class SignInRequestForm(FrenchForm):
    # No validator: any text is answered the same way (no enumeration, no format oracle).
    email = EmailField("Votre adresse e-mail", render_kw={"autocomplete": "email"})


class ConfirmForm(FrenchForm):
    """Only the CSRF token: the click spends the link (a mail scanner's GET does not)."""


class AcceptCgvForm(FrenchForm):
    text_sha256 = HiddenField()
    accept = BooleanField("J'ai lu et j'accepte cette version des CGV")
