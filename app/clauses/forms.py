from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.forms import FrenchForm


class ClauseForm(FrenchForm):
    title = StringField("Titre", validators=[InputRequired(), Length(max=200)])
    # the 100 KB rule is checked in bytes by the service; this only stops absurd posts early
    body_markdown = TextAreaField("Texte (Markdown)", validators=[InputRequired()])
    save = SubmitField("Enregistrer")
