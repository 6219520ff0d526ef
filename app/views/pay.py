"""Where WeChat Pay's servers POST their notifications: no session, no CSRF token (the
notification's own signature is checked instead), WeChat's JSON on failure. Each route
is one call of payments.wechat_pay.notify."""

from flask import Blueprint, jsonify, request

from app.extensions import csrf
from app.payments.wechat_pay import notify

bp = Blueprint("pay", __name__, url_prefix="/pay")
csrf.exempt(bp)

MAX_BODY = 64 * 1024  # a notification is a few hundred bytes


def _answer():
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return jsonify({"code": "FAIL", "message": "too large"}), 413
    answer = notify.handle(request.headers, body)
    if answer.ok:
        return "", answer.status
    return jsonify({"code": "FAIL", "message": answer.message or "failed"}), answer.status


@bp.route("/wechat/notify", methods=["POST"])
def wechat_notify():
    """支付通知 (and refund notifications when no refund notify URL is set)."""
    return _answer()


@bp.route("/wechat/refund-notify", methods=["POST"])
def wechat_refund_notify():
    """退款通知."""
    return _answer()
