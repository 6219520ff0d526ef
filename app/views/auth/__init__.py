"""Mobile sign-in and sign-out for everyone (staff and customers) at /auth/."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ...services import accounts
from ...services.errors import ValidationError

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    mobile = StringField(validators=[DataRequired(), Length(max=32)])
    password = PasswordField(validators=[DataRequired(), Length(max=128)])


def safe_next(default: str = "/me") -> str:
    """Only same-site paths: never an open redirect."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc \
            or "\\" in target:
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            mobile = accounts.normalize_mobile(form.mobile.data)
        except ValidationError:
            mobile = None
        user = current_app.appbuilder.sm.auth_user_db(mobile, form.password.data) \
            if mobile else None
        if user is None:
            error = _("Wrong mobile number or password.")
        else:
            session.pop("page_history", None)
            login_user(user, remember=False)
            return redirect(safe_next())
    elif request.method == "POST":
        error = _("Please enter your mobile number and password.")
    status = 400 if error and request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error,
                           next=safe_next("")), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()  # CSRFProtect checks the token of every POST
    flash(_("You have signed out."), "info")
    return redirect("/auth/login")


@bp.route("/lang/<locale>")
def set_language(locale):
    """Language switch for the mobile pages; stays on the page it came from."""
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
    return redirect(safe_next("/"))
