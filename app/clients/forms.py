from wtforms import DateField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import FrenchForm

_REQUIRED = "Ce champ est obligatoire."


class ClientForm(FrenchForm):
    legal_name = StringField(
        "Raison sociale", validators=[DataRequired(_REQUIRED), Length(max=200)]
    )
    siren = StringField("SIREN", validators=[DataRequired(_REQUIRED), Length(max=20)])
    vat_number = StringField(
        "N° de TVA intracommunautaire", validators=[Optional(), Length(max=20)]
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


class TerminationForm(FrenchForm):
    terminated_on = DateField("Date de résiliation", validators=[DataRequired(_REQUIRED)])
    reason = TextAreaField("Motif", validators=[Optional(), Length(max=2000)])
