"""SMS verification codes for sign-up and password reset.

A code is six digits, stored as an HMAC (never in clear in its own table), valid five
minutes, allows five tries and is used once. The SMS itself goes through the outbox;
with the embedded `log` provider it shows in the back-office message log, so the demo
works without an SMS account. Answers never reveal whether a phone is registered.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.members.models import CodePurpose, VerificationCode
from app.messaging import outbox
from app.platform import accounts
from app.platform.errors import ValidationError
from app.platform.time import utcnow

CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)


def _digest(phone: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _latest(phone: str, purpose: str) -> VerificationCode | None:
    return db.session.scalar(
        select(VerificationCode).where(VerificationCode.phone == phone,
                                       VerificationCode.purpose == purpose)
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc()).limit(1))


def send_code(raw_phone: str, purpose: str) -> None:
    """Write a code SMS to the outbox. The same answer whether or not the phone is known."""
    if purpose not in CodePurpose.ALL:
        raise ValueError(purpose)
    phone = accounts.normalize_mobile(raw_phone)
    last = _latest(phone, purpose)
    if last is not None and utcnow() - last.created_at < RESEND_AFTER:
        raise ValidationError(_l("A code was sent a moment ago; please wait a minute."), "mobile")
    known = accounts.find_account(phone) is not None
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(VerificationCode(phone=phone, purpose=purpose,
                                    code_hash=_digest(phone, purpose, code),
                                    expires_at=utcnow() + CODE_TTL))
    if purpose == CodePurpose.REGISTER and known:
        # Tell the phone's owner, not the person asking.
        outbox.tell_phone_already_registered(phone)
    elif purpose == CodePurpose.RESET and not known:
        pass  # nothing to reset; nothing is sent, and the answer is the same
    else:
        outbox.send_code(phone, code)
    db.session.commit()


def check_code(phone: str, purpose: str, code: str) -> None:
    """Use the latest code of this phone; a wrong try is counted even though it fails."""
    code = (code or "").strip()
    row = _latest(phone, purpose)
    invalid = ValidationError(_l("The verification code is wrong or has expired."), "code")
    if row is None or row.used_at is not None or utcnow() > row.expires_at:
        raise invalid
    if row.attempts >= MAX_TRIES:
        raise ValidationError(_l("Too many wrong codes. Please ask for a new code."), "code")
    if not hmac.compare_digest(row.code_hash, _digest(phone, purpose, code)):
        row.attempts += 1
        db.session.commit()
        raise invalid
    row.used_at = utcnow()
