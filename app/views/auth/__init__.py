"""Mobile sign-in, sign-up with an SMS code, password reset and sign-out, at /auth/."""

import hmac
import secrets
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
from app.members import referral, verification, wechat_accounts
from app.members import services as members
from app.members.models import CodePurpose
from app.platform import accounts, ids, limits, sessions, wechat
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


# ---- WeChat's browser: the official account's openid, asked once, silently ---------------

WECHAT_STATE = "wechat_oauth_state"
WECHAT_NEXT = "wechat_oauth_next"
WECHAT_TRIED = "wechat_oauth_tried"


def _in_wechat_browser() -> bool:
    return "MicroMessenger" in (request.headers.get("User-Agent") or "")


@bp.before_app_request
def _ask_wechat_for_openid():
    """A signed-in account opening a storefront page in WeChat's browser, with no identity
    in the official account yet, is sent once per session through WeChat's silent OAuth
    (snsapi_base: no prompt) so that template messages can reach it."""
    if request.method != "GET" or not (request.endpoint or "").startswith("shop.") or \
            not _in_wechat_browser() or session.get(WECHAT_TRIED) or \
            not wechat_accounts.wants_official_openid(current_user):
        return None
    session[WECHAT_TRIED] = True
    session[WECHAT_STATE] = secrets.token_urlsafe(16)
    session[WECHAT_NEXT] = request.full_path if request.query_string else request.path
    app = wechat_accounts.official_account_app()
    return redirect(wechat.oauth(app, url_for("auth.wechat_oauth", _external=True),
                                 session[WECHAT_STATE]).authorize_url)


@bp.route("/wechat/oauth")
def wechat_oauth():
    """Where WeChat sends the browser back with a code; then on to the page it came from.
    Nothing here ever stops the person: a refusal only means no WeChat messages."""
    back = ids.safe_target(session.pop(WECHAT_NEXT, None), "/")
    state, code = request.args.get("state", ""), request.args.get("code", "")
    expected = session.pop(WECHAT_STATE, None)
    if current_user.is_authenticated and expected and code and \
            hmac.compare_digest(state.encode(), expected.encode()):
        try:
            wechat_accounts.remember_official_openid(current_user, code[:256])
        except DomainError as exc:
            current_app.logger.info("WeChat OAuth gave no openid: %s", exc.message)
    return redirect(back)
