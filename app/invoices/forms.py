from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import FrenchForm
from app.invoices.rules import MAX_LINES, MAX_PAYMENT_DAYS
from app.quotes.forms import LineForm

PAYMENT_METHODS = [
    SelectChoice("Virement bancaire", "Virement bancaire"),
    SelectChoice("Prélèvement SEPA", "Prélèvement SEPA"),
    SelectChoice("Carte bancaire", "Carte bancaire"),
]


def _menu(label: str, **options: str) -> SelectField:
    """A choice among fixed options, given as value="French label" in the order shown (the
    values are what the pages and their tests post)."""
    return SelectField(
        label, choices=[SelectChoice(value, text) for value, text in options.items()]
    )


class ManualInvoiceForm(FrenchForm):
    """A one-off invoice (training days, extra service). A negative unit price is a discount."""

    client_id = SelectField("Client", coerce=int, validators=[InputRequired()])
    contract_id = SelectField("Contrat signé (facultatif)", coerce=int, default=0)
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=MAX_LINES + 1)
    payment_terms_days = IntegerField(
        "Délai de paiement (jours)",
        default=30,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_PAYMENT_DAYS)],
    )
    payment_method = SelectField("Mode de paiement", choices=PAYMENT_METHODS)
    add_line = SubmitField("Ajouter une ligne")
    issue = SubmitField("Émettre la facture")


class PaymentForm(FrenchForm):
    """Mark an invoice paid (full or partial) or its direct debit rejected."""

    kind = _menu("Événement", payment="Paiement reçu", failed="Prélèvement rejeté")
    # Its own id: the avoir form, on the same page, has an "amount" too.
    amount = StringField(
        "Montant reçu TTC (€)", id="payment-amount", validators=[Optional(), Length(max=20)]
    )
    occurred_on = DateField(
        "Date",
        validators=[InputRequired("Indiquez la date du paiement ou du rejet de prélèvement.")],
    )
    charge_fee = BooleanField("Refacturer 25 € de frais de rejet sur la prochaine facture")


class SyntecIndexForm(FrenchForm):
    month = StringField("Mois (AAAA-MM)", validators=[InputRequired(), Length(max=7)])
    value = StringField("Valeur de l'indice Syntec", validators=[InputRequired(), Length(max=20)])
    save = SubmitField("Enregistrer l'indice")


class CreditNoteForm(FrenchForm):
    """An avoir on an issued invoice: its cancellation, or one credited amount."""

    mode = _menu(
        "Nature de l'avoir",
        cancel="Annulation totale de la facture",
        partial="Avoir partiel (un montant)",
    )
    reason = StringField("Motif", validators=[InputRequired(), Length(max=500)])
    designation = StringField(
        "Désignation (avoir partiel)", validators=[Optional(), Length(max=500)]
    )
    amount = StringField(
        "Montant HT crédité (€)", id="credit-amount", validators=[Optional(), Length(max=20)]
    )
    vat_rate = SelectField("Taux de TVA", validators=[Optional()])
    issue_credit = SubmitField("Émettre l'avoir")


class RevisionClauseForm(FrenchForm):
    """A plan's Syntec revision clause: P = P0 × (S / S0) at each renewal."""

    base_month = StringField(
        "Mois de l'indice de base S0 (AAAA-MM)", validators=[InputRequired(), Length(max=7)]
    )
    reference_month = IntegerField(
        "Mois de l'indice S (1 à 12, dernier publié avant le renouvellement)",
        validators=[InputRequired(), NumberRange(min=1, max=12)],
    )
    cap_percent = StringField(
        "Plafond de hausse en % (facultatif)", validators=[Optional(), Length(max=10)]
    )
    no_decrease = BooleanField("Pas de baisse de prix (P ≥ P0)")
    save_clause = SubmitField("Enregistrer la clause")


class RevisionForm(FrenchForm):
    """Preview, then apply, the revision at a renewal date."""

    renewal = DateField("Date de renouvellement", validators=[InputRequired()])
    preview = SubmitField("Aperçu de la révision")
    apply = SubmitField("Appliquer la révision")


class PlanFromContractForm(FrenchForm):
    """Create a signed contract's billing plan from its quote's commercial terms."""

    contract_id = SelectField("Contrat signé", coerce=int, validators=[InputRequired()])
    start_date = DateField("Début de la facturation", validators=[InputRequired()])
    create_plan = SubmitField("Créer le plan de facturation")


class BillingPeriodForm(FrenchForm):
    """The period whose due invoices the plans page previews (a GET, no token), then issues
    (the same field, posted with the token)."""

    period = StringField("Période (AAAA-MM)", validators=[Length(max=20)])


class ReferenceRateForm(FrenchForm):
    """A dated reference rate for late interest (ECB rate or French legal interest rate)."""

    kind = _menu(
        "Taux",
        ecb="Taux BCE (refinancement principal)",
        legal="Taux d'intérêt légal (créanciers professionnels)",
    )
    effective_from = DateField("En vigueur à partir du", validators=[InputRequired()])
    rate = StringField("Taux annuel (%)", validators=[InputRequired(), Length(max=12)])
    save_rate = SubmitField("Enregistrer le taux")
