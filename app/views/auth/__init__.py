"""Mobile sign-in, sign-up with an SMS code, password reset and sign-out, at /auth/."""

from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import limiter
from app.members import referral, verification
from app.members import services as members
from app.members.models import CodePurpose
from app.platform import accounts, ids, limits, sessions
from app.platform.errors import DomainError, ValidationError

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    mobile = StringField(validators=[DataRequired(), Length(max=32)])
    password = PasswordField(validators=[DataRequired(), Length(max=128)])


class CodeForm(FlaskForm):
    """Sign-up and reset share this form: phone, SMS code, new password twice."""

    mobile = StringField(validators=[Length(max=32)])
    code = StringField(validators=[Length(max=12)])
    password = PasswordField(validators=[Length(max=128)])
    password2 = PasswordField(validators=[Length(max=128)])
    ref = HiddenField(validators=[Length(max=16)])

    def problem(self) -> str | None:
        """What is wrong with the posted form before any service is asked, or None."""
        if not self.validate_on_submit():
            return _("The request could not be understood.")
        if self.password.data != self.password2.data:
            return _("The two passwords are not the same.")
        return None


def safe_next(default: str = "/me") -> str:
    """The `next` of the request if it is a path on this site, else `default`."""
    return ids.safe_target(request.values.get("next"), default)


def _mobile_key() -> str:
    raw = request.form.get("mobile", "")
    try:
        return accounts.normalize_mobile(raw)
    except ValidationError:
        return raw.strip()[:32]


def _failed(response) -> bool:
    return response.status_code == 400


@bp.route("/login", methods=["GET", "POST"])
@limits.sign_in_limited(_mobile_key, _failed)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.mobile.data, form.password.data)
        except accounts.SignInRefused as refused:
            error = str(refused.message)
        else:
            sessions.sign_in(user)
            return redirect(safe_next())
    elif request.method == "POST":
        error = _("Please enter your mobile number and password.")
    status = 400 if error and request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error,
                           next=safe_next("")), status


@bp.errorhandler(429)
def _locked_out(exc):
    """Too many failed sign-ins (or code requests): say how long to wait, offer a reset."""
    message = limits.wait_message()
    return render_template("auth/locked.html", message=message), 429


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Only a POST signs out (CSRFProtect checks its token); a GET asks first."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/logout.html")
    sessions.sign_out(current_user)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<locale>")
def set_language(locale):
    """Language switch for the mobile pages; stays on the page it came from."""
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
    return redirect(safe_next("/"))


PAGES = {CodePurpose.REGISTER: "auth.register", CodePurpose.RESET: "auth.reset"}


@bp.route("/code", methods=["POST"])
@limiter.limit(lambda: current_app.config["LIMIT_CODE_PER_PHONE"],
               key_func=lambda: "sms-code:" + _mobile_key())
@limiter.limit(lambda: current_app.config["LIMIT_CODE_PER_IP"])
def send_code():
    """Send an SMS code, then back to the form it came from with the phone filled in."""
    purpose = request.args.get("purpose", CodePurpose.REGISTER)
    if purpose not in PAGES:
        purpose = CodePurpose.REGISTER
    form = CodeForm()
    back = {"mobile": (form.mobile.data or "")[:32]}
    if form.ref.data:
        back["ref"] = form.ref.data
    if form.validate_on_submit():
        try:
            verification.send_code(form.mobile.data, purpose)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            # The same words whether or not the phone is registered.
            flash(_("If the number can receive it, a code is on its way. It is valid for "
                    "5 minutes."), "info")
    else:
        flash(_("The request could not be understood."), "danger")
    return redirect(url_for(PAGES[purpose]) + "?" + urlencode(back))


def _code_form():
    form = CodeForm()
    if request.method == "GET":
        form.mobile.data = request.args.get("mobile", "")[:32]
        form.ref.data = request.args.get("ref", "")[:16]
    return form


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LIMIT_CODE_PER_IP"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("shop.me"))
    form = _code_form()
    referrer = referral.salesman_by_referral(form.ref.data)
    error = None
    if request.method == "POST":
        error = form.problem()
        if error is None:
            try:
                user = members.register(form.mobile.data, form.code.data, form.password.data,
                                        form.ref.data)
            except DomainError as exc:
                error = str(exc.message)
            else:
                sessions.sign_in(user)
                flash(_("Welcome! Please complete your shop's profile for approval."), "info")
                return redirect("/me/profile")
    return render_template("auth/register.html", form=form, error=error,
                           referrer=referrer), 400 if error else 200


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LIMIT_CODE_PER_IP"], methods=["POST"])
def reset():
    form = _code_form()
    error = None
    if request.method == "POST":
        error = form.problem()
        if error is None:
            try:
                members.reset_password(form.mobile.data, form.code.data, form.password.data)
            except DomainError as exc:
                error = str(exc.message)
            else:
                flash(_("Your password has been changed. Please sign in."), "info")
                return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, error=error), 400 if error else 200
