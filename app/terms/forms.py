from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.forms import FrenchForm
from app.rendering.french import upper_first
from app.rendering.labels import label
from app.terms.conversion import SourceFormat
from app.terms.models import LateInterestRule, VersionKind
from app.terms.versions import KIND_RULES

_REQUIRED = "Ce champ est obligatoire."
FROM_TEXT = "texte"
SILENT = "aucun"
PENALTY_CHOICES = [
    SelectChoice(FROM_TEXT, "Lire le taux dans le texte (l'article qui l'énonce est retenu)"),
    *(SelectChoice(rule.value, upper_first(rule.label)) for rule in LateInterestRule),
    SelectChoice(
        SILENT, "Ces CGV ne fixent pas de taux (taux de l'article L441-10 du Code de commerce)"
    ),
]


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
            SelectChoice(k.value, f"{upper_first(label(k))} — {KIND_RULES[k]}") for k in VersionKind
        ],
        validators=[DataRequired("Choisissez la nature de la modification.")],
    )
    summary = TextAreaField(
        "Résumé des modifications (envoyé aux clients)",
        validators=[Optional(), Length(max=5000)],
    )
    body_markdown = TextAreaField(
        "Ou texte des CGV collé ici",
        validators=[Optional(), Length(max=500_000)],
    )
    # How the pasted text is written; a file says it by its extension (.md, .txt, .docx).
    source_format = RadioField(
        "Le texte collé est écrit en",
        choices=[
            SelectChoice(SourceFormat.TEXT.value, "texte brut (articles reconnus à l'import)"),
            SelectChoice(SourceFormat.MARKDOWN.value, "Markdown (# titre, ## articles)"),
        ],
        default=SourceFormat.TEXT.value,
        validators=[DataRequired("Choisissez le format du texte collé.")],
    )
    late_interest_rule = SelectField(
        "Taux des pénalités de retard que ces CGV énoncent",
        choices=PENALTY_CHOICES,
        default=FROM_TEXT,
    )
    penalty_article = StringField(
        "Article qui l'énonce (ex. 7.3)", validators=[Optional(), Length(max=200)]
    )
    recovery_indemnity = StringField(
        "Indemnité forfaitaire pour frais de recouvrement, par facture impayée (€)",
        default="40",
        validators=[Optional(), Length(max=20)],
    )
