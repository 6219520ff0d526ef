"""Accounts: one FAB user table for everyone; the mobile number is the sign-in name."""

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.platform import sessions
from app.platform.errors import ValidationError
from app.platform.security import ACCESS, DRIVER_END, SALES_END

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

# FAB requires a unique e-mail on every account. Most of our users (shop owners,
# drivers) have none, so an account without a real address gets
# "<mobile>@phone.pifa.invalid": the .invalid top-level domain is reserved by
# RFC 2606 and can never receive mail. It is never shown (display_email hides it)
# and nothing is ever mailed to it. A real address, when given, replaces it.
PLACEHOLDER_EMAIL_DOMAIN = "phone.pifa.invalid"


def placeholder_email(mobile: str) -> str:
    return f"{mobile}@{PLACEHOLDER_EMAIL_DOMAIN}"


def is_placeholder_email(email: str | None) -> bool:
    return not email or email.endswith("@" + PLACEHOLDER_EMAIL_DOMAIN)


def display_email(user) -> str:
    return "" if is_placeholder_email(user.email) else user.email


def normalize_mobile(raw: str | None) -> str:
    """'+86 138-0000-0001' -> '13800000001'; raises ValidationError when not a mainland mobile."""
    value = re.sub(r"[\s\-()]", "", raw or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not MOBILE_RE.match(value):
        raise ValidationError(_l("Please enter a valid 11-digit mobile number."), "mobile")
    return value


def validate_password(password: str | None) -> str:
    password = password or ""
    if len(password) < 8 or len(password) > 128:
        raise ValidationError(_l("The password must be 8 to 128 characters long."), "password")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise ValidationError(_l("The password must contain both letters and digits."),
                              "password")
    return password


def hash_password(password: str) -> str:
    """werkzeug's scrypt by default; tests set a cheap method (PASSWORD_HASH_METHOD)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def security_manager():
    return current_app.appbuilder.sm


def find_account(mobile: str):
    return security_manager().find_user(username=mobile)


def create_account(mobile: str, name: str, password: str, roles: list[str],
                   email: str | None = None, commit: bool = False, flush: bool = True):
    """Create an account signed in by `mobile`; raises ValidationError on bad input."""
    sm = security_manager()
    mobile = normalize_mobile(mobile)
    validate_password(password)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_l("Please enter a name."), "name")
    if find_account(mobile) is not None:
        raise ValidationError(_l("An account with this mobile number already exists."), "mobile")
    role_objs = [sm.find_role(r) for r in roles]
    if None in role_objs:
        raise ValidationError(_l("Unknown role."), "roles")
    user = sm.user_model(
        username=mobile,
        first_name=name[:64],
        last_name="",
        email=(email or placeholder_email(mobile)).strip().lower(),
        active=True,
        password=hash_password(password),
    )
    user.roles = role_objs
    db.session.add(user)
    if commit:
        db.session.commit()
    elif flush:
        db.session.flush()
    return user


def grant_role(user, role_name: str) -> None:
    role = security_manager().find_role(role_name)
    if role is None:
        raise ValidationError(_l("Unknown role."), "roles")
    if role not in user.roles:
        user.roles.append(role)


def role_names(user) -> set[str]:
    return {r.name for r in getattr(user, "roles", []) or []}


def display_name(user) -> str:
    return " ".join(p for p in (user.first_name, user.last_name) if p) or user.username


def can(user, permission: str, view: str) -> bool:
    """Whether `user`'s roles hold (permission, view) (Admin holds every back-office one).
    Asked the way FAB's @has_access asks, so the roles' permissions are read once a
    request (platform/security.py) however many checks a page makes."""
    if not getattr(user, "is_authenticated", False):
        return False
    return security_manager()._has_view_access(user, permission, view)


def can_use_back_office(user) -> bool:
    return can(user, "can_index", "AdminIndexView")


def me_entries(user) -> list[dict]:
    """The entries "我的" shows this person, from what their roles allow."""
    entries = []
    if can(user, ACCESS, SALES_END):
        entries.append({"key": "sales", "label": _l("Business end"), "url": "/sales/"})
    if can(user, ACCESS, DRIVER_END):
        entries.append({"key": "driver", "label": _l("Driver end"), "url": "/driver/"})
    if can_use_back_office(user):
        entries.append({"key": "admin", "label": _l("Back office"), "url": "/admin/"})
    return entries


def set_password(user, password: str) -> None:
    """A new password (already validated) ends every session signed in with the old one."""
    user.password = hash_password(password)
    sessions.end_sessions(user.id)


def set_active(user, active: bool) -> None:
    """Disable or enable an account; a disabled account's open sessions end at once, and
    stay ended when it is enabled again."""
    user.active = bool(active)
    if not user.active:
        sessions.end_sessions(user.id)
    db.session.commit()


class SignInRefused(ValidationError):
    code = "sign_in_refused"


def authenticate(raw_mobile: str | None, password: str | None):
    """The account for a mobile number and password, for every sign-in door (the web
    form and the API); raises SignInRefused with the reason a person may be told."""
    try:
        mobile = normalize_mobile(raw_mobile)
    except ValidationError:
        mobile = None
    sm = security_manager()
    user = sm.auth_user_db(mobile, password or "") if mobile and password else None
    if user is not None:
        return user
    existing = sm.find_user(username=mobile) if mobile else None
    if existing is not None and not existing.active and password and \
            check_password_hash(existing.password, password):
        raise SignInRefused(_l("This account has been disabled. Please contact customer "
                               "service."))
    raise SignInRefused(_l("Wrong mobile number or password."))
