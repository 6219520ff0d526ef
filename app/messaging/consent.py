"""Subscribe-message consent: a mini program may send a person a subscribe message only
after they accepted that template in `wx.requestSubscribeMessage`, and once per
acceptance. Each acceptance is a row; a message spends one (outbox.tell_customer) and,
with none left, the news goes by SMS instead."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.messaging.events import EVENTS
from app.messaging.models import Channel, SubscribeAcceptance
from app.messaging.templates import get_template
from app.platform.errors import ValidationError
from app.platform.time import utcnow

ACCEPT = "accept"  # what wx.requestSubscribeMessage answers per template id when allowed
# WeChat counts acceptances without limit; keeping more than this many unused for one
# template would only let a script fill the table.
MAX_UNUSED = 50


def our_templates() -> dict[str, list[str]]:
    """The WeChat template ids in use → the events that send them (what the mini program
    should ask the person to accept)."""
    found: dict[str, list[str]] = {}
    for event, spec in EVENTS.items():
        if Channel.WECHAT in spec.channels:
            code = get_template(event, Channel.WECHAT).template_code
            if code:
                found.setdefault(code, []).append(event)
    return found


def unused(user_id: int, template_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(SubscribeAcceptance).where(
        SubscribeAcceptance.user_id == user_id, SubscribeAcceptance.template_id == template_id,
        SubscribeAcceptance.used_at.is_(None))) or 0


def record(user_id: int, answers: dict) -> dict[str, int]:
    """Keep the person's answers to one subscribe prompt ({template id: "accept" |
    "reject" | "ban" | "filter"}): one acceptance per accepted template of ours. Returns
    the unused acceptances per template of ours afterwards. The caller commits."""
    ours = our_templates()
    if not isinstance(answers, dict) or not answers:
        raise ValidationError(_l("Nothing to record: give the answer for each template."),
                              "answers")
    unknown = [key for key in answers if key not in ours]
    if unknown:
        raise ValidationError(_l("“%(template)s” is not one of our message templates.",
                                 template=str(unknown[0])[:64]), "answers")
    for template_id, answer in answers.items():
        if answer == ACCEPT and unused(user_id, template_id) < MAX_UNUSED:
            db.session.add(SubscribeAcceptance(user_id=user_id, template_id=template_id))
    db.session.flush()
    return {template_id: unused(user_id, template_id) for template_id in ours}


def spend(user_id: int, template_id: str) -> SubscribeAcceptance | None:
    """Take one unused acceptance (the oldest), or None when there is none left. A
    conditional UPDATE: two messages at once never spend the same acceptance."""
    for _attempt in range(3):
        row_id = db.session.scalar(select(SubscribeAcceptance.id).where(
            SubscribeAcceptance.user_id == user_id,
            SubscribeAcceptance.template_id == template_id,
            SubscribeAcceptance.used_at.is_(None)).order_by(SubscribeAcceptance.id).limit(1))
        if row_id is None:
            return None
        taken = db.session.execute(
            update(SubscribeAcceptance)
            .where(SubscribeAcceptance.id == row_id, SubscribeAcceptance.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        if taken == 1:
            return db.session.get(SubscribeAcceptance, row_id, populate_existing=True)
    return None
