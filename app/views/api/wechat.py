"""WeChat over the API: mini-program sign-in and binding, SMS codes and sign-in by code,
the account's WeChat identities, and subscribe-message acceptances.

Each route is one call of members.wechat_accounts, members.verification or
messaging.consent; the rate limits are the web's (sign-in per IP, codes per phone/IP)."""

from flask import current_app
from flask.views import MethodView
from flask_babel import gettext as _
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.extensions import db, limiter
from app.members import verification, wechat_accounts
from app.members.models import CodePurpose
from app.messaging import consent
from app.platform import accounts, limits, tokens
from app.platform.ids import MAX_ID
from app.platform.security import CUSTOMER
from app.views.api.auth import TokensSchema, mobile_key, refused_sign_in
from app.views.api.errors import error_response

blp = Blueprint("api_wechat", __name__, description="WeChat sign-in, SMS codes, WeChat "
                                                    "identities and subscribe messages")
SECURED = [{"bearer": []}]


def _mobile():
    return fields.String(required=True, validate=validate.Length(1, 32),
                         metadata={"example": "13800000001"})


def _per_ip_sign_in():
    return limiter.limit(lambda: current_app.config["LIMIT_SIGN_IN_PER_IP"],
                         scope="sign-in-ip", methods=["POST"], deduct_when=refused_sign_in)


@blp.errorhandler(429)
def _too_many(_exc):
    return error_response(429, limits.wait_message())


# ---- schemas -----------------------------------------------------------------------------

class WeChatCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 256),
                         metadata={"description": "the code of wx.login()"})


class WeChatSignInSchema(Schema):
    signed_in = fields.Boolean(required=True)
    tokens = fields.Nested(TokensSchema, allow_none=True)
    bind_ticket = fields.String(allow_none=True, metadata={
        "description": "when not signed in: bind a phone with it within 10 minutes"})


class BindSchema(Schema):
    bind_ticket = fields.String(required=True, validate=validate.Length(1, 1024))
    phone_code = fields.String(validate=validate.Length(1, 256), metadata={
        "description": "the code of the getPhoneNumber button (WeChat verifies the phone)"})
    mobile = fields.String(validate=validate.Length(1, 32))
    sms_code = fields.String(validate=validate.Length(1, 16),
                             metadata={"description": "a code sent with purpose sign_in"})
    ref = fields.String(validate=validate.Length(max=16),
                        metadata={"description": "a salesman's QR code reference"})


class SmsCodeRequestSchema(Schema):
    mobile = _mobile()
    purpose = fields.String(required=True, validate=validate.OneOf(CodePurpose.ALL))


class NoticeSchema(Schema):
    message = fields.String(required=True)


class SmsSignInSchema(Schema):
    mobile = _mobile()
    code = fields.String(required=True, validate=validate.Length(1, 16))


class IdentitySchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "miniprogram | official"})
    label = fields.String(required=True)
    openid_hint = fields.String(required=True)
    has_unionid = fields.Boolean(required=True)
    bound_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(required=True)


class TemplateStateSchema(Schema):
    template_id = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    unused = fields.Integer(required=True, metadata={
        "description": "acceptances left: messages of this template we may still send"})


class SubscriptionsSchema(Schema):
    templates = fields.List(fields.Nested(TemplateStateSchema), required=True)


class AnswersSchema(Schema):
    answers = fields.Dict(keys=fields.String(validate=validate.Length(1, 64)),
                          values=fields.String(validate=validate.Length(1, 16)),
                          required=True, validate=validate.Length(min=1, max=20),
                          metadata={"description": "what wx.requestSubscribeMessage "
                                                   "answered: {template id: accept | reject "
                                                   "| ban | filter}"})


def _subscriptions(user_id: int) -> dict:
    return {"templates": [{"template_id": template_id, "events": events,
                           "unused": consent.unused(user_id, template_id)}
                          for template_id, events in consent.our_templates().items()]}


# ---- sign-in -----------------------------------------------------------------------------

@blp.route("/auth/wechat")
class WeChatSignIn(MethodView):
    decorators = [_per_ip_sign_in()]

    @blp.arguments(WeChatCodeSchema())
    @blp.response(200, WeChatSignInSchema)
    @blp.alt_response(401, description="The bound account is disabled")
    @blp.alt_response(404, description="WeChat sign-in is not set up here")
    @blp.alt_response(503, description="WeChat cannot be reached: try again later")
    def post(self, body):
        """Sign in with the mini program's `wx.login` code: tokens for a bound WeChat, or
        a bind ticket to bind a phone with."""
        try:
            result = wechat_accounts.sign_in_with_miniprogram(body["code"])
        except accounts.SignInRefused as refused:
            return error_response(401, refused.message, refused.code)
        if result.user is None:
            return {"signed_in": False, "tokens": None, "bind_ticket": result.bind_ticket}
        return {"signed_in": True, "tokens": tokens.issue(result.user), "bind_ticket": None}


@blp.route("/auth/wechat/bind")
class WeChatBind(MethodView):
    decorators = [_per_ip_sign_in()]

    @blp.arguments(BindSchema())
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="The account is disabled")
    def post(self, body):
        """Bind the WeChat of a bind ticket to a phone, proved by `phone_code` (WeChat's
        phone button) or by `mobile` + `sms_code`; a phone without an account becomes a
        new customer. Answers the account's tokens."""
        try:
            if body.get("phone_code"):
                user = wechat_accounts.bind_with_phone_code(
                    body["bind_ticket"], body["phone_code"], body.get("ref"))
            elif body.get("mobile") and body.get("sms_code"):
                user = wechat_accounts.bind_with_sms_code(
                    body["bind_ticket"], body["mobile"], body["sms_code"], body.get("ref"))
            else:
                return error_response(422, _("Give phone_code, or mobile and sms_code."),
                                      errors={"phone_code": [_("Required.")]})
        except accounts.SignInRefused as refused:
            return error_response(401, refused.message, refused.code)
        return tokens.issue(user)


@blp.route("/auth/sms-code")
class SmsCode(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["LIMIT_CODE_PER_PHONE"],
                      key_func=lambda: "sms-code:" + mobile_key()),
        limiter.limit(lambda: current_app.config["LIMIT_CODE_PER_IP"])]

    @blp.arguments(SmsCodeRequestSchema())
    @blp.response(202, NoticeSchema)
    @blp.alt_response(429, description="Too many codes asked for")
    def post(self, body):
        """Send an SMS code (sign-up, password reset, or sign-in / WeChat binding). The
        answer is the same whether or not the phone is registered."""
        verification.send_code(body["mobile"], body["purpose"])
        return {"message": _("If the number can receive it, a code is on its way. It is "
                             "valid for 5 minutes.")}


@blp.route("/auth/sms-token")
class SmsSignIn(MethodView):
    decorators = [limits.sign_in_limited(mobile_key, refused_sign_in)]

    @blp.arguments(SmsSignInSchema())
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, description="Wrong or expired code; disabled account")
    def post(self, body):
        """Sign in with a mobile number and an SMS code (purpose sign_in)."""
        try:
            user = wechat_accounts.sign_in_with_sms_code(body["mobile"], body["code"])
        except accounts.SignInRefused as refused:
            return error_response(401, refused.message, refused.code)
        return tokens.issue(user)


# ---- the account's WeChat ----------------------------------------------------------------

@blp.route("/me/wechat")
class MyIdentities(MethodView):
    @jwt_required()
    @blp.response(200, IdentitySchema(many=True))
    @blp.doc(security=SECURED)
    def get(self):
        """The WeChat identities bound to my account (mini program, official account)."""
        return wechat_accounts.bound_identities(current_user.id)


@blp.route("/me/wechat/<int:identity_id>")
class MyIdentity(MethodView):
    @jwt_required()
    @blp.response(204)
    @blp.doc(security=SECURED)
    def delete(self, identity_id):
        """Unbind one of my WeChat identities: it no longer signs in or gets messages."""
        wechat_accounts.unbind(current_user, min(identity_id, MAX_ID))


@blp.route("/me/subscriptions")
class MySubscriptions(MethodView):
    @jwt_required()
    @blp.response(200, SubscriptionsSchema)
    @blp.doc(security=SECURED)
    def get(self):
        """The subscribe-message templates to ask me to accept, and how many acceptances
        of each are left."""
        return _subscriptions(current_user.id)

    @jwt_required()
    @blp.arguments(AnswersSchema())
    @blp.response(200, SubscriptionsSchema)
    @blp.doc(security=SECURED)
    def post(self, body):
        """Record what I answered in `wx.requestSubscribeMessage`: one acceptance per
        accepted template (each lets one message go by WeChat instead of SMS)."""
        if CUSTOMER not in accounts.role_names(current_user):
            return error_response(403)
        consent.record(current_user.id, body["answers"])
        db.session.commit()
        return _subscriptions(current_user.id)
