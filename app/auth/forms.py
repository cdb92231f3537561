from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.auth.models import Role, Scope
from app.auth.services import MIN_PASSWORD_LENGTH
from app.forms import FrenchForm
from app.printable import MAX_CAPACITY, capacity_problem


class LoginForm(FrenchForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[DataRequired("Indiquez votre adresse e-mail."), Length(max=254)],
    )
    password = PasswordField(
        "Mot de passe", validators=[DataRequired("Indiquez votre mot de passe."), Length(max=200)]
    )


class ApiTokenForm(FrenchForm):
    name = StringField(
        "Nom (qui l'utilise, pour quoi)",
        validators=[DataRequired("Indiquez un nom."), Length(max=100)],
    )
    scopes = SelectMultipleField(
        "Portées",
        choices=[
            SelectChoice(Scope.READ.value, "read : lister et lire les documents"),
            SelectChoice(Scope.RESTITUTION.value, "restitution : résiliation et restitution"),
            SelectChoice(Scope.ADMIN.value, "admin : gels juridiques, webhooks"),
            SelectChoice(Scope.WRITE.value, "write : clients, devis, contrats, envoi en signature"),
        ],
        validators=[DataRequired("Choisissez au moins une portée.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )


_ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


class ForgotPasswordForm(FrenchForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[DataRequired("Indiquez votre adresse e-mail."), Length(max=254)],
    )


class SetPasswordForm(FrenchForm):
    password = PasswordField(
        "Nouveau mot de passe",
        validators=[
            DataRequired("Choisissez un mot de passe."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit contenir de {MIN_PASSWORD_LENGTH} à 200 caractères.",
            ),
        ],
    )
    confirmation = PasswordField(
        "Confirmation",
        validators=[
            DataRequired("Saisissez le mot de passe une seconde fois."),
            EqualTo("password", "Les deux mots de passe ne sont pas identiques."),
        ],
    )


def _printable_capacity(form: FrenchForm, field: StringField) -> None:
    """Optional; what the contract can print after the name (`app.auth.accounts.checked_title`
    holds the same rule for every other caller)."""
    if problem := capacity_problem(field.data or ""):
        raise ValidationError(problem)


def _title_field() -> StringField:
    return StringField(
        "Fonction",
        validators=[_printable_capacity],
        render_kw={"maxlength": MAX_CAPACITY, "placeholder": "Ex. Directrice commerciale"},
    )


class InviteForm(FrenchForm):
    full_name = StringField(
        "Nom complet", validators=[DataRequired("Indiquez le nom."), Length(max=200)]
    )
    email = EmailField(
        "Adresse e-mail",
        validators=[
            DataRequired("Indiquez l'adresse e-mail."),
            Length(max=254),
            Email("Adresse e-mail invalide.", check_deliverability=False),
        ],
    )
    role = SelectField(
        "Rôle",
        choices=_ROLE_CHOICES,
        validators=[DataRequired("Choisissez un rôle.")],
        validate_choice=True,
    )
    # Printed after the name when the user countersigns a contract for the vendor.
    title = _title_field()


class RoleForm(FrenchForm):
    role = SelectField("Rôle", choices=_ROLE_CHOICES, validate_choice=True)


class TitleForm(FrenchForm):
    """One user's capacity, changed inline on the users page (empty: none printed)."""

    title = _title_field()
