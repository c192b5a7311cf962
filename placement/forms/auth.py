from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..services.api_tokens import LIFETIME_DAYS


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"})


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "new-password"},
        description="At least 12 characters. A few unrelated words make a strong password.",
    )
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("new_password", "The passwords do not match.")])


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class ApiTokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)],
                       description="What will use it, e.g. \"County CCWIS sync\".")
    days = SelectField("Expires after", choices=[(d, f"{d} days") for d in LIFETIME_DAYS], coerce=int, default=90)
