from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.auth.models import Scope
from app.forms import FrenchForm


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
            SelectChoice(Scope.ADMIN.value, "admin : gels juridiques"),
        ],
        validators=[DataRequired("Choisissez au moins une portée.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
