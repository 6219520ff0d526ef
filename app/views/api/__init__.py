"""JSON API v1 at /api/v1/, for the mini-program (flask-smorest: marshmallow schemas, the
OpenAPI document generated from the code at /api/v1/openapi.json).

A new door onto the same house: every endpoint calls the domain services the web calls.
Bearer tokens only, never cookies (so no CSRF surface); every error is JSON with a
stable `code` and a `message` in the caller's language (Accept-Language, zh default).
"""

from flask import request
from flask_smorest import Api

from app.extensions import csrf
from app.views.api import (
    auth,
    catalog,
    customer,
    driver,
    money,
    orders,
    pay,
    sales,
    sales_customers,  # noqa: F401  (its routes join sales.blp)
    wechat,
)
from app.views.api.errors import (
    ErrorSchema,
    error_response,
    install_error_handlers,
    is_api_request,
)

PREFIX = "/api/v1"
BLUEPRINTS = ((auth.blp, "/auth"), (catalog.blp, ""), (orders.blp, ""),
              (sales.blp, "/sales"), (driver.blp, "/driver"), (wechat.blp, ""),
               (customer.blp, ""), (money.blp, ""), (pay.blp, ""))


class PifaApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """flask-smorest's handler answers every HTTPException the app raises; only
        ours (under /api/) become JSON, the web keeps its pages."""
        if not is_api_request():
            return error
        messages = (getattr(error, "data", None) or {}).get("messages")
        return error_response(error.code, errors=messages)


api = PifaApi()


def init_api(app) -> None:
    app.config.setdefault("API_TITLE", "Pifa API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"info": {"description": __doc__.split("\n\n")[1]}})
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for blueprint, prefix in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=PREFIX + prefix)
        csrf.exempt(blueprint)
    install_error_handlers(app)
    _locale_from_accept_language(app)


def _locale_from_accept_language(app) -> None:
    """The API's language is the request's Accept-Language; FAB's selector would store a
    locale in the session, that is, set a cookie."""
    babel = app.extensions["babel"]
    web_selector = babel.locale_selector
    languages = list(app.config["LANGUAGES"])

    def select_locale():
        if is_api_request():
            return request.accept_languages.best_match(languages) or \
                app.config["BABEL_DEFAULT_LOCALE"]
        return web_selector()

    babel.locale_selector = select_locale
