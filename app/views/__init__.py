"""Registration of every view: FAB back office under /admin/, blueprints for the rest."""

import contextlib

from flask import abort, current_app, flash, g, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from app.extensions import db
from app.members.models import MemberStatus
from app.ordering.states import REFUND_LABELS, Delivery, Pay, PaymentStatus, RefundStatus, State
from app.payments.wechat_pay import gateway as wechat_pay
from app.platform.errors import DomainError
from app.platform.settings import get_settings, settings_without_database
from app.platform.uploads import thumb_key_of
from app.views.admin import register
from app.views.admin.params import check_fab_request
from app.views.api import init_api
from app.views.api.errors import error_response, is_api_request
from app.views.auth import bp as auth_bp
from app.views.driver import bp as driver_bp
from app.views.health import bp as health_bp
from app.views.media import bp as media_bp
from app.views.member import bp as member_bp
from app.views.pay import bp as pay_bp
from app.views.sales import bp as sales_bp
from app.views.shop import bp as shop_bp


def register_views(appbuilder) -> None:
    register(appbuilder)


def register_blueprints(app) -> None:
    for bp in (auth_bp, shop_bp, member_bp, sales_bp, driver_bp, media_bp, health_bp,
               pay_bp):
        app.register_blueprint(bp)

    init_api(app)
    app.before_request(check_fab_request)

    app.add_template_filter(thumb_key_of, "thumb")
    app.add_template_filter(_localtime, "localtime")
    # A global, not a context value: imported macros (checkout_choices) see globals only.
    app.add_template_global(wechat_pay.configured, "wechat_pay_ready")

    @app.context_processor
    def _mobile_context():
        return {"shop": get_settings(), "endpoint_url": endpoint_url,
                "locale": str(get_locale() or "zh"), **NAMES}

    @app.errorhandler(DomainError)
    def _domain_error(exc):
        if is_api_request():
            db.session.rollback()
            return error_response(exc.status_code, exc.message, exc.code,
                                  {exc.field: [str(exc.message)]} if exc.field else None)
        if request.method == "POST" and request.referrer:
            flash(str(exc.message), "danger")
        return _render_error(exc.status_code, str(exc.message))

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page(code))
    # A file that is not there is a 404, not a crash.
    app.register_error_handler(FileNotFoundError, _error_page(404))

    @app.before_request
    def _no_nul_characters():
        # PostgreSQL refuses NUL in text; no person types one. Refused here, once, for
        # every form, query string and URL part, instead of failing in the database.
        sources = [request.args]
        if request.method in ("POST", "PUT", "PATCH"):
            sources.append(request.form)
        values = [*(request.view_args or {}).values()]
        for source in sources:
            for repeated in source.listvalues():  # every value of a repeated name too
                values += repeated
        if any("\x00" in value for value in values if isinstance(value, str)):
            abort(400)

    @app.before_request
    def _no_fab_downloads():
        # We keep no FAB file columns; FAB's /download/<name> routes would crash on any
        # name, so they do not exist here.
        if request.endpoint and request.endpoint.endswith(".download"):
            abort(404)


# The names templates compare against (never bare strings), with the refund labels.
NAMES = {"State": State, "Pay": Pay, "Delivery": Delivery, "PaymentStatus": PaymentStatus,
         "RefundStatus": RefundStatus, "MemberStatus": MemberStatus,
         "refund_labels": REFUND_LABELS}


def _localtime(value, fmt="yyyy-MM-dd HH:mm"):
    """UTC from the database, shown in Asia/Shanghai."""
    return format_datetime(value, fmt) if value else ""


def endpoint_url(endpoint: str) -> str | None:
    """URL of an endpoint, or None while the page does not exist yet."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint)


_MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have permission to open this page."),
    404: lambda: _("The page you asked for does not exist."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The upload is too large."),
    429: lambda: _("Too many attempts. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. Please try again later."),
}


def _error_page(code):
    def handler(exc):
        return _render_error(code, _MESSAGES[code]())

    return handler


def _render_error(code: int, message: str):
    """An error page that needs nothing from the database: the request's transaction is
    rolled back first (it may be what failed), and the page shows the settings this
    process read last instead of querying them."""
    # A dead connection cannot even roll back; the pool replaces it on the next request.
    with contextlib.suppress(Exception):
        db.session.rollback()
    if is_api_request():
        return error_response(code)
    g.pifa_settings = settings_without_database()
    return render_template("error.html", code=code, message=message), code
