"""Signing in with WeChat and binding WeChat identities to accounts.

Mini program: the `wx.login` code gives the person's openid (code2session). A bound
identity signs its account in; otherwise the client gets a short-lived bind ticket
(the openid signed by us; the session_key never leaves platform/wechat.py) and binds by
the phone WeChat verified (`getPhoneNumber`) or by phone + SMS code. A phone without an
account becomes a new customer, who then fills in the shop profile for approval.

WeChat's browser: the storefront asks the official account for the person's openid once
(silent snsapi_base OAuth) and keeps it on the signed-in account, so template messages
reach them.
"""

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.members import verification
from app.members.models import CodePurpose, Member, MemberStatus
from app.members.referral import salesman_by_referral
from app.platform import accounts, wechat
from app.platform.errors import DomainError, NotFound, ValidationError
from app.platform.security import CUSTOMER
from app.platform.time import utcnow

BIND_TICKET_SALT = "wechat-bind"
BIND_TICKET_TTL = 600  # seconds to bind after wx.login (WeChat's code itself lives 5 min)


class WeChatNotAvailable(DomainError):
    """WeChat cannot be reached right now (or refuses our app's settings): try later."""

    status_code = 503
    code = "wechat_unavailable"


class WeChatNotSetUp(DomainError):
    """This installation has no such WeChat app: the door is not there."""

    status_code = 404
    code = "wechat_not_set_up"


@dataclass
class MiniProgramSignIn:
    user: object | None  # the bound account, signed in
    bind_ticket: str | None  # otherwise: bind a phone with this


def _app(kind: str) -> wechat.App:
    app = wechat.app_for(kind)
    if app is None:
        raise WeChatNotSetUp(_l("WeChat sign-in is not set up. Please sign in with your "
                                "mobile number."))
    return app


def _ask_wechat(call, *args):
    try:
        return call(*args)
    except wechat.WeChatCodeRefused:
        raise ValidationError(_l("WeChat did not accept the request (it may have expired). "
                                 "Please try again."), "code") from None
    except wechat.WeChatUnavailable as exc:
        current_app.logger.warning("WeChat call failed: %s", exc)
        raise WeChatNotAvailable(_l("WeChat cannot be reached right now. Please try again in "
                                    "a moment.")) from None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=BIND_TICKET_SALT)


def _active(user):
    if not user.active:
        raise accounts.SignInRefused(_l("This account has been disabled. Please contact "
                                        "customer service."))
    return user


def _signed_in(identity: wechat.WechatIdentity):
    user = _active(accounts.security_manager().get_user_by_id(identity.user_id))
    identity.last_used_at = utcnow()
    db.session.commit()
    return user


def sign_in_with_miniprogram(code: str) -> MiniProgramSignIn:
    """A `wx.login` code → the bound account, or a ticket to bind a phone with."""
    app = _app(wechat.MINIPROGRAM)
    login = _ask_wechat(wechat.code_to_session, app, code)
    identity = wechat.identity_of(login.appid, login.openid)
    if identity is not None and identity.unbound_at is None:
        return MiniProgramSignIn(_signed_in(identity), None)
    same_person = wechat.by_unionid(login.unionid)
    if same_person is not None:  # known through the official account: the same account
        user = _active(accounts.security_manager().get_user_by_id(same_person.user_id))
        wechat.remember(user.id, login, wechat.MINIPROGRAM)
        db.session.commit()
        return MiniProgramSignIn(user, None)
    ticket = _serializer().dumps({"appid": login.appid, "openid": login.openid,
                                  "unionid": login.unionid})
    return MiniProgramSignIn(None, ticket)


def _login_of(ticket: str) -> wechat.Login:
    try:
        data = _serializer().loads(ticket or "", max_age=BIND_TICKET_TTL)
    except SignatureExpired:
        raise ValidationError(_l("Binding took too long. Please sign in with WeChat again."),
                              "bind_ticket") from None
    except BadSignature:
        raise ValidationError(_l("This bind ticket is not valid. Please sign in with WeChat "
                                 "again."), "bind_ticket") from None
    if not isinstance(data, dict) or data.get("appid") != _app(wechat.MINIPROGRAM).appid:
        raise ValidationError(_l("This bind ticket is not valid. Please sign in with WeChat "
                                 "again."), "bind_ticket")
    return wechat.Login(data["appid"], data["openid"], data.get("unionid"))


def bind_with_phone_code(ticket: str, phone_code: str, referral: str | None = None):
    """Bind by the phone number WeChat verified (`getPhoneNumber`); returns the account."""
    login = _login_of(ticket)
    phone = _ask_wechat(wechat.phone_number, _app(wechat.MINIPROGRAM), phone_code)
    return _bind(login, accounts.normalize_mobile(phone), referral)


def bind_with_sms_code(ticket: str, raw_phone: str, code: str, referral: str | None = None):
    """Bind by a phone the person proves with an SMS code (purpose SIGN_IN)."""
    login = _login_of(ticket)
    phone = accounts.normalize_mobile(raw_phone)
    verification.check_code(phone, CodePurpose.SIGN_IN, code)
    return _bind(login, phone, referral)


def _bind(login: wechat.Login, phone: str, referral: str | None):
    taken = wechat.identity_of(login.appid, login.openid)
    user = accounts.find_account(phone)
    if taken is not None and taken.unbound_at is None and (
            user is None or taken.user_id != user.id):
        db.session.commit()  # keeps the spent SMS code spent
        raise ValidationError(_l("This WeChat is already bound to another account."), "phone")
    if user is None:
        user = _new_customer(phone, referral)
    _active(user)
    wechat.remember(user.id, login, wechat.MINIPROGRAM)
    db.session.commit()
    return user


def _new_customer(phone: str, referral: str | None):
    """A customer account for a phone WeChat or an SMS code proved. It has no password
    (a random one nobody knows): they sign in by WeChat or set one by "forgot password"."""
    user = accounts.create_account(phone, phone, secrets.token_urlsafe(24) + "aA1",
                                   [CUSTOMER])
    salesman = salesman_by_referral(referral)
    db.session.add(Member(user_id=user.id, phone=phone, status=MemberStatus.INCOMPLETE,
                          own_salesman_id=salesman.id if salesman else None,
                          referred_by_id=salesman.id if salesman else None))
    db.session.flush()
    return user


def sign_in_with_sms_code(raw_phone: str, code: str):
    """An existing account by phone + SMS code (purpose SIGN_IN)."""
    phone = accounts.normalize_mobile(raw_phone)
    try:
        verification.check_code(phone, CodePurpose.SIGN_IN, code)
    except ValidationError as exc:
        raise accounts.SignInRefused(exc.message) from None
    user = accounts.find_account(phone)
    db.session.commit()  # the code is spent either way
    if user is None:
        raise accounts.SignInRefused(_l("The verification code is wrong or has expired."))
    return _active(user)


# ---- WeChat's browser --------------------------------------------------------------------

def official_account_app() -> wechat.App | None:
    return wechat.app_for(wechat.OFFICIAL)


def wants_official_openid(user) -> bool:
    """Whether the storefront should ask WeChat's browser for this account's openid: the
    official account is set up and the account never had an identity in it."""
    app = official_account_app()
    return app is not None and getattr(user, "is_authenticated", False) and \
        not wechat.has_any(user.id, app.appid)


def remember_official_openid(user, code: str) -> bool:
    """Keep the openid an OAuth code gives as the account's official-account identity.
    An openid bound to another account stays there (whoever bound it first keeps its
    messages); returns whether it is now this account's."""
    app = _app(wechat.OFFICIAL)
    login = _ask_wechat(wechat.oauth_login, app, code)
    taken = wechat.identity_of(login.appid, login.openid)
    if taken is not None and taken.unbound_at is None and taken.user_id != user.id:
        return False
    wechat.remember(user.id, login, wechat.OFFICIAL)
    db.session.commit()
    return True


def unbind(user, identity_id: int) -> None:
    """The person unbinds one of their WeChat identities: it no longer signs in or gets
    messages."""
    identity = db.session.get(wechat.WechatIdentity, identity_id) if identity_id else None
    if identity is None or identity.user_id != user.id or identity.unbound_at is not None:
        raise NotFound(_l("This WeChat binding does not exist."))
    identity.unbound_at = utcnow()
    db.session.commit()


def bound_identities(user_id: int) -> list[dict]:
    """What 我的 and the back office show: which WeChat identities an account has."""
    return [{"id": row.id, "kind": row.kind,
             "label": str(wechat.KIND_LABELS.get(row.kind, row.kind)),
             "openid_hint": row.openid[:4] + "…" + row.openid[-4:],
             "has_unionid": bool(row.unionid), "bound_at": row.created_at,
             "last_used_at": row.last_used_at}
            for row in wechat.identities(user_id)]
