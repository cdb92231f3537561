"""The endpoint form of the administration page (French labels and messages)."""

from __future__ import annotations

from wtforms import BooleanField, DateField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.events.catalogue import EVENT_TYPES
from app.forms import FrenchForm


class EndpointForm(FrenchForm):
    url = StringField(
        "Adresse de réception (https://…)",
        validators=[DataRequired("Indiquez l'adresse de réception."), Length(max=500)],
    )
    description = StringField("Description", validators=[Length(max=200)])
    event_types = SelectMultipleField(
        "Événements envoyés",
        choices=[SelectChoice(t, f"{label} ({t})") for t, label in EVENT_TYPES.items()],
        validators=[DataRequired("Choisissez au moins un type d'événement.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    enabled = BooleanField("Actif", default=True)


class RedeliverSinceForm(FrenchForm):
    since = DateField("Depuis le", validators=[DataRequired("Indiquez une date.")])


class ConfirmDeletionForm(FrenchForm):
    """Nothing to fill in: the button and its CSRF token."""
