"""Access guards for the mobile blueprints (the back office uses FAB's @has_access)."""

import functools
from urllib.parse import quote

from flask import abort, redirect, request
from flask_login import current_user

from app.platform import accounts
from app.platform.security import ACCESS


def requires(view_name: str, permission: str = ACCESS):
    """Signed-in users holding (permission, view_name); others: sign-in page or 403."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_redirect()
            if not accounts.can(current_user, permission, view_name):
                abort(403)
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def signed_in(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_redirect()
        return fn(*args, **kwargs)

    return wrapper


def login_redirect():
    return redirect("/auth/login?next=" + quote(request.full_path.rstrip("?"), safe="/"))
