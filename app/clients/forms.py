from typing import Any

from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from app.clients.rules import EU_COUNTRIES
from app.forms import FrenchForm

_REQUIRED = "Ce champ est obligatoire."


def _required_in_france(form: Any, field: Any) -> None:
    """A French client has a SIREN; a client of another member state may have none."""
    if not (field.data or "").strip():
        if form.country.data == "FR":
            raise StopValidation(_REQUIRED)
        raise StopValidation()  # empty and allowed: nothing more to check


class ClientForm(FrenchForm):
    legal_name = StringField(
        "Raison sociale", validators=[DataRequired(_REQUIRED), Length(max=200)]
    )
    country = SelectField(
        "Pays",
        choices=[SelectChoice(code, name) for code, name in EU_COUNTRIES.items()],
        default="FR",
        validate_choice=False,  # the service says which countries are accepted, in French
    )
    siren = StringField("SIREN (France)", validators=[_required_in_france, Length(max=20)])
    vat_number = StringField(
        "N° de TVA intracommunautaire (obligatoire hors de France)",
        validators=[Optional(), Length(max=20)],
    )
    address = StringField("Adresse", validators=[DataRequired(_REQUIRED), Length(max=300)])
    postal_code = StringField("Code postal", validators=[DataRequired(_REQUIRED), Length(max=10)])
    city = StringField("Ville", validators=[DataRequired(_REQUIRED), Length(max=100)])
    signer_name = StringField(
        "Nom du signataire", validators=[DataRequired(_REQUIRED), Length(max=200)]
    )
    signer_email = EmailField(
        "E-mail du signataire", validators=[DataRequired(_REQUIRED), Length(max=254)]
    )
    # Optional; the service checks it (length, printable characters) with the other fields.
    signer_title = StringField(
        "Qualité du signataire",
        render_kw={"maxlength": 120, "placeholder": "Ex. Présidente, Gérant, Directeur général"},
    )
    # shown with the warning that other clients have this SIREN (ClientDuplicate)
    confirm_duplicate = BooleanField(
        "Je confirme : créer une autre entité contractante avec le même SIREN"
    )


class TerminationForm(FrenchForm):
    terminated_on = DateField("Date de résiliation", validators=[DataRequired(_REQUIRED)])
    reason = TextAreaField("Motif", validators=[Optional(), Length(max=2000)])


class BillingContactForm(FrenchForm):
    """A billing contact, added or edited by sales or by the client in its space. No
    validators of its own: the service checks every field and names each fault at once."""

    name = StringField("Nom", render_kw={"autocomplete": "name", "maxlength": 200})
    email = EmailField("Adresse e-mail", render_kw={"autocomplete": "email", "maxlength": 254})
    active = BooleanField("Reçoit les factures", default=True)


class InvoicesByEmailForm(FrenchForm):
    send_invoices_by_email = BooleanField("Envoyer les factures par courriel")
