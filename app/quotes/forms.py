from decimal import Decimal

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.forms import FrenchForm, FrenchSubForm
from app.pricing.decimals import parse_decimal
from app.pricing.forms import VAT_CHOICES, FrenchDecimalField
from app.quotes.commercial_terms import DEFAULT_SETUP_SCHEDULE, format_schedule
from app.quotes.models import ProductKind
from app.quotes.rules import MAX_LINES

DISCOUNT_CHOICES = [
    SelectChoice("none", "Aucune"),
    SelectChoice("percent", "%"),
    SelectChoice("amount", "€ HT"),
]
PLAN_CHOICES = [
    SelectChoice("annual", "12 mois, facturation annuelle par virement"),
    SelectChoice("monthly", "1 mois, facturation mensuelle par prélèvement"),
    SelectChoice("custom", "Sur mesure (champs ci-dessous)"),
]


class LineForm(FrenchSubForm):
    # choices are set by the view from the active catalogue
    product = SelectField("Catalogue", choices=[], default="", validate_choice=False)
    designation = StringField("Désignation", validators=[Optional(), Length(max=500)])
    quantity = StringField("Quantité", validators=[Optional(), Length(max=20)])
    unit = StringField("Unité", validators=[Optional(), Length(max=30)])
    unit_price = StringField("Prix unitaire HT (€)", validators=[Optional(), Length(max=20)])
    vat_rate = SelectField("TVA", choices=VAT_CHOICES, default="20", validate_choice=False)
    discount_kind = SelectField(
        "Remise", choices=DISCOUNT_CHOICES, default="none", validate_choice=False
    )
    discount_value = StringField("Valeur de la remise", validators=[Optional(), Length(max=20)])

    def is_blank(self) -> bool:
        return not any(
            (f.data or "").strip()
            for f in (self.product, self.designation, self.quantity, self.unit_price)
        )

    def figures(
        self, unit_price: str, vat_rate: str, *, price_hint: str
    ) -> tuple[Decimal, Decimal, Decimal] | None:
        """Quantity, unit price and VAT rate read the French way (1 250,00), or None with an
        error on each unreadable field (a field already refused keeps its first reason). The
        price and rate are passed in: a quote's line may
        take them from its catalogue item; `price_hint` says what a price looks like here."""
        quantity = parse_decimal(self.quantity.data or "")
        price = parse_decimal(unit_price)
        vat = parse_decimal(vat_rate)
        if quantity is None:
            self.quantity.errors = list(self.quantity.errors) or [
                "Indiquez une quantité (ex. 12 ou 1,5)."
            ]
        if price is None:
            self.unit_price.errors = list(self.unit_price.errors) or [price_hint]
        if vat is None:
            self.vat_rate.errors = list(self.vat_rate.errors) or ["Taux de TVA inconnu."]
        if quantity is None or price is None or vat is None:
            return None
        return quantity, price, vat


def filled_lines(lines: FieldList) -> list[LineForm]:
    """The line sub-forms with something typed in, in their order: blank rows are left out,
    and the line errors the services return (``lines-<i>``) count these only."""
    return [entry.form for entry in lines.entries if not entry.form.is_blank()]


class QuoteForm(FrenchForm):
    # One more than the rule allows, so that a 501st line reaches the check and is refused
    # (WTForms would otherwise drop it silently).
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=MAX_LINES + 1)
    global_discount_kind = SelectField(
        "Remise globale", choices=DISCOUNT_CHOICES, default="none", validate_choice=False
    )
    global_discount_value = StringField(
        "Valeur de la remise globale", validators=[Optional(), Length(max=20)]
    )
    valid_until = DateField("Valable jusqu'au", validators=[Optional()])
    plan = SelectField("Engagement", choices=PLAN_CHOICES, default="annual", validate_choice=False)
    commitment_months = StringField("Durée d'engagement (mois)", default="12")
    billing_period = SelectField(
        "Facturation",
        choices=[SelectChoice("annual", "Annuelle"), SelectChoice("monthly", "Mensuelle")],
        default="annual",
        validate_choice=False,
    )
    payment_method = SelectField(
        "Moyen de paiement",
        choices=[
            SelectChoice("transfer", "Virement"),
            SelectChoice("direct_debit", "Prélèvement SEPA"),
        ],
        default="transfer",
        validate_choice=False,
    )
    payment_terms_days = StringField("Délai de paiement (jours)", default="30")
    tacit_renewal = BooleanField("Reconduction tacite", default=True)
    notice_months = StringField("Préavis de résiliation (mois)", default="3")
    setup_schedule = StringField(
        "Échéancier des frais de mise en service",
        default=format_schedule(DEFAULT_SETUP_SCHEDULE),
        validators=[Optional(), Length(max=800)],
    )
    particular_terms = TextAreaField(
        "Conditions particulières", validators=[Optional(), Length(max=100_000)]
    )
    add_line = SubmitField("Ajouter une ligne")
    save = SubmitField("Enregistrer le devis")


class ProductForm(FrenchForm):
    code = StringField("Code", validators=[InputRequired(), Length(max=40)])
    kind = SelectField(
        "Nature",
        choices=[SelectChoice(k.value, k.label) for k in ProductKind],
        default=ProductKind.PLAN.value,
    )
    name = StringField("Désignation", validators=[InputRequired(), Length(max=500)])
    unit = StringField("Unité", validators=[InputRequired(), Length(max=30)])
    unit_price = FrenchDecimalField(
        "Prix unitaire HT (€)",
        validators=[InputRequired()],
        message="Indiquez un prix (ex. 1 250,00).",
    )
    vat_rate = SelectField("TVA", choices=VAT_CHOICES, default="20", validate_choice=False)
    active = BooleanField("Proposé dans les devis", default=True)
    save = SubmitField("Enregistrer")
