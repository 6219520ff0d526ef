"""What a person is told when a rate limit (sign-in, SMS codes) refuses them."""

import math
import time

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from app.extensions import limiter


def wait_message() -> str:
    """How long to wait, in minutes, for the limit the current request hit."""
    wait = None
    current = limiter.current_limit
    if current is not None:  # reset_at is rounded up to the next whole second
        wait = max(1, math.ceil((current.reset_at - 1 - time.time()) / 60))
    if wait:
        return ngettext("Too many attempts. Please try again in %(num)d minute.",
                        "Too many attempts. Please try again in %(num)d minutes.", wait)
    return _("Too many attempts. Please wait a moment and try again.")


def sign_in_limited(mobile_key, refused):
    """The sign-in limits, shared by every sign-in door (web page, API): failed attempts
    per account (`mobile_key()`) and, far looser, per IP. `refused(response)` says which
    answers count as a failed attempt."""
    per_account = limiter.shared_limit(
        lambda: current_app.config["LIMIT_SIGN_IN_PER_ACCOUNT"], scope="sign-in-account",
        key_func=lambda: "sign-in:" + mobile_key(), methods=["POST"], deduct_when=refused)
    per_ip = limiter.shared_limit(
        lambda: current_app.config["LIMIT_SIGN_IN_PER_IP"], scope="sign-in-ip",
        methods=["POST"], deduct_when=refused)

    def decorate(view):
        return per_account(per_ip(view))

    return decorate
