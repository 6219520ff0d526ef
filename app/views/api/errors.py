"""Every API error as JSON: {"code": stable, "message": translated, "errors": by field},
and the guard that refuses a person outside an end."""

import functools

from flask import has_request_context, jsonify, request
from flask_babel import gettext as _
from flask_jwt_extended import current_user, jwt_required
from marshmallow import Schema, fields

from app.platform import accounts
from app.platform.security import ACCESS

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
         422: "validation", 429: "too_many_attempts", 500: "server_error"}

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Please sign in."),
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("Not found."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The upload is too large."),
    415: lambda: _("Please send JSON."),
    422: lambda: _("Please check the fields marked."),
    429: lambda: _("Too many attempts. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. Please try again later."),
}


class ErrorSchema(Schema):
    """Every error answer of the API (documented as each operation's default answer)."""

    code = fields.String(required=True, metadata={
        "description": "stable, for programs: validation, unauthorized, token_expired, ..."})
    message = fields.String(required=True, metadata={
        "description": "for people, in the Accept-Language (zh by default, en)"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "by field (or by location, then field): the messages"})


def is_api_request() -> bool:
    return has_request_context() and (request.path == "/api" or request.path.startswith("/api/"))


def error_response(status: int, message=None, code: str | None = None, errors=None):
    body = {"code": code or CODES.get(status, "error"),
            "message": str(message) if message else MESSAGES.get(status, MESSAGES[400])()}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def install_error_handlers(app) -> None:
    """Token problems (flask-jwt-extended) in the same shape, each with its own code."""
    jwt = app.extensions["flask-jwt-extended"]
    def signed_out(_header, _data):
        return error_response(401, _("Your sign-in has ended. Please sign in again."),
                              "token_revoked")


    jwt.unauthorized_loader(lambda _reason: error_response(401))
    jwt.invalid_token_loader(lambda _reason: error_response(401, code="invalid_token"))
    jwt.expired_token_loader(lambda _h, _d: error_response(
        401, _("Your sign-in has expired. Please sign in again."), "token_expired"))
    jwt.user_lookup_error_loader(signed_out)
    jwt.revoked_token_loader(signed_out)
    jwt.token_verification_failed_loader(lambda _h, _d: error_response(
        401, code="invalid_token"))


def holding(view_name: str, permission: str = ACCESS):
    """A route for signed-in people holding (permission, view_name), as the web's
    views.guards.requires: no token 401, another end's person 403."""
    def decorator(fn):
        @jwt_required()
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not accounts.can(current_user, permission, view_name):
                return error_response(403)
            return fn(*args, **kwargs)

        return wrapper

    return decorator
