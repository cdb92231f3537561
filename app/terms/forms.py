from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.forms import FrenchForm
from app.terms.models import VersionKind
from app.terms.services import KIND_LABELS, KIND_RULES

_REQUIRED = "Ce champ est obligatoire."


class CgvVersionForm(FrenchForm):
    label = StringField(
        "Libellé de la version (ex. 2.3)", validators=[DataRequired(_REQUIRED), Length(max=20)]
    )
    title = StringField(
        "Titre",
        default="Conditions générales de vente",
        validators=[DataRequired(_REQUIRED), Length(max=200)],
    )
    effective_date = DateField(
        "Date d'entrée en vigueur",
        validators=[DataRequired("Date attendue (JJ/MM/AAAA).")],
    )
    kind = RadioField(
        "Nature de la modification",
        choices=[
            SelectChoice(k.value, f"{KIND_LABELS[k].capitalize()} — {KIND_RULES[k]}")
            for k in VersionKind
        ],
        validators=[DataRequired("Choisissez la nature de la modification.")],
    )
    summary = TextAreaField(
        "Résumé des modifications (envoyé aux clients)",
        validators=[Optional(), Length(max=5000)],
    )
    body_markdown = TextAreaField(
        "Texte des CGV (Markdown : # titres, ## articles)",
        validators=[DataRequired("Le texte des CGV est vide."), Length(max=500_000)],
    )
