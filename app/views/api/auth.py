"""Sign-in over the API: phone + password for tokens, refresh, sign-out, who am I.

The same account check and the same rate limits as the web's sign-in page."""

from flask import request
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.extensions import db
from app.members import services as members
from app.platform import accounts, limits, sessions, tokens
from app.views.api.errors import error_response

blp = Blueprint("api_auth", __name__, description="Sign-in and tokens")


class SignInSchema(Schema):
    mobile = fields.String(required=True, metadata={"example": "13800000001"})
    password = fields.String(required=True, load_only=True)


class TokensSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String()
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class MemberSchema(Schema):
    status = fields.String(required=True)
    shop_name = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    level = fields.String(allow_none=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    mobile = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    member = fields.Nested(MemberSchema, allow_none=True)


def mobile_key() -> str:
    body = request.get_json(silent=True)
    raw = body.get("mobile") if isinstance(body, dict) else None
    try:
        return accounts.normalize_mobile(raw if isinstance(raw, str) else "")
    except accounts.ValidationError:
        return str(raw or "").strip()[:32]


def refused_sign_in(response) -> bool:
    return response.status_code in (400, 401, 422)


@blp.errorhandler(429)
def _too_many(_exc):
    return error_response(429, limits.wait_message())


@blp.route("/token")
class SignIn(MethodView):
    decorators = [limits.sign_in_limited(mobile_key, refused_sign_in)]

    @blp.arguments(SignInSchema())
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="Wrong mobile number or password; disabled account")
    @blp.alt_response(429, description="Too many failed sign-ins")
    def post(self, credentials):
        """Sign in with a mobile number and password: an access and a refresh token."""
        try:
            user = accounts.authenticate(credentials["mobile"], credentials["password"])
        except accounts.SignInRefused as refused:
            return error_response(401, refused.message, refused.code)
        return tokens.issue(user)


@blp.route("/refresh")
class Refresh(MethodView):
    @jwt_required(refresh=True)
    @blp.response(200, TokensSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self):
        """A new access token for a refresh token (until sign-out or its expiry)."""
        return tokens.issue(current_user, refresh=False)


@blp.route("/logout")
class SignOut(MethodView):
    @jwt_required(verify_type=False)
    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def post(self):
        """Sign out everywhere: every token and web session of the account ends."""
        sessions.end_sessions(current_user.id)
        db.session.commit()


@blp.route("/me")
class Me(MethodView):
    @jwt_required()
    @blp.response(200, MeSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """Who the token speaks for: name, roles and, for a customer, the member."""
        member = members.member_of(current_user)
        return {"id": current_user.id, "name": accounts.display_name(current_user),
                "mobile": current_user.username,
                "roles": sorted(accounts.role_names(current_user)),
                "member": None if member is None else {
                    "status": member.status, "shop_name": member.shop_name,
                    "region": member.region.name if member.region else None,
                    "level": member.level.name if member.level else None}}
