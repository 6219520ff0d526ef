"""Templates: the wording and provider template of each event on each channel, edited in
the back office (消息模板); the built-in default wording when none was saved."""

import string
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.messaging.events import EVENTS, TEXT_PARAM
from app.messaging.models import Channel, MessageTemplate
from app.platform.errors import ValidationError
from app.platform.transactions import atomic


@dataclass
class Template:
    event: str
    channel: str
    text: str
    template_code: str
    param_map: str
    saved: bool  # False: the built-in default


def default_param_map(event: str) -> str:
    return "\n".join(f"{name}={name}" for name, _sample in EVENTS[event].params)


def get_template(event: str, channel: str) -> Template:
    spec = EVENTS.get(event)
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel))
    if row is not None:
        return Template(event, channel, row.text, row.template_code or "", row.param_map or "",
                        True)
    if spec is None:
        return Template(event, channel, "", "", "", False)
    return Template(event, channel, spec.text, "", default_param_map(event), False)


def all_templates() -> list[Template]:
    return [get_template(event, channel) for event, spec in EVENTS.items()
            for channel in spec.channels]


def _placeholders(text: str) -> list[str]:
    try:
        fields = [(name, spec, conv) for _lit, name, spec, conv
                  in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValidationError(_l("The text has an unmatched { or }."), "text") from exc
    for name, spec, conv in fields:
        if spec or conv:  # every value is text: "{amount:.2f}" would fail when sent
            written = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") \
                + "}"
            raise ValidationError(_l("Write placeholders plainly, like {order_no}: “%(written)s” "
                                     "cannot be used.", written=written), "text")
    return [name for name, _spec, _conv in fields]


def parse_param_map(event: str, param_map: str) -> list[tuple[str, str]]:
    """'provider_var=param' per line (or comma) -> ordered pairs; refuses unknown params."""
    known = {name for name, _ in EVENTS[event].params} | {TEXT_PARAM}
    pairs = []
    for raw in param_map.replace(",", "\n").replace("，", "\n").splitlines():
        item = raw.strip()
        if not item:
            continue
        var, sep, param = (part.strip() for part in item.partition("="))
        param = param if sep else var
        if not var or not var.replace("_", "").replace(".", "").isalnum():
            raise ValidationError(_l("“%(item)s” is not a valid provider variable name.",
                                     item=item), "param_map")
        if param not in known:
            raise ValidationError(_l("“%(param)s” is not a parameter of this message. "
                                     "Use: %(known)s.", param=param,
                                     known=", ".join(sorted(known))), "param_map")
        pairs.append((var, param))
    return pairs


def render(text: str, params: dict, fallback: str | None = None) -> str:
    """`text` with its placeholders filled. A text that cannot be filled (a template saved
    before the checks above) gives `fallback` filled instead, so that the change which
    sends the message is never refused for its wording."""
    values = {key: str(value) for key, value in params.items()}
    try:
        return string.Formatter().vformat(text, (), _Missing(values))
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        if fallback is None:
            raise
        return render(fallback, params)


class _Missing(dict):
    def __missing__(self, key):  # a placeholder without a value renders empty, never fails
        return ""


def check_template(event: str, channel: str, text: str, template_code: str,
                   param_map: str) -> None:
    if event not in EVENTS or channel not in EVENTS[event].channels:
        raise ValidationError(_l("Unknown message."), "event")
    text = (text or "").strip()
    if not text:
        raise ValidationError(_l("Please enter the text of the message."), "text")
    if len(text) > 500:
        raise ValidationError(_l("The text is too long (at most 500 characters)."), "text")
    known = {name for name, _ in EVENTS[event].params}
    for name in _placeholders(text):
        if name not in known:
            raise ValidationError(_l("{%(name)s} is not a parameter of this message. "
                                     "Use: %(known)s.", name=name,
                                     known=", ".join(f"{{{k}}}" for k in sorted(known))
                                     or "—"), "text")
    if len(template_code or "") > 64:
        raise ValidationError(_l("The template code is too long."), "template_code")
    parse_param_map(event, param_map or "")


def _provider_fields(channel: str, template_code: str, param_map: str) -> tuple[str, str]:
    """In-app messages are shown as written: they have no provider template."""
    if channel == Channel.INAPP:
        return "", ""
    return template_code or "", param_map or ""


@atomic
def save_template(event: str, channel: str, text: str, template_code: str, param_map: str,
                  actor) -> Template:
    template_code, param_map = _provider_fields(channel, template_code, param_map)
    check_template(event, channel, text, template_code, param_map)
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel))
    if row is None:
        row = MessageTemplate(event=event, channel=channel)
        db.session.add(row)
    row.text = text.strip()
    row.template_code = (template_code or "").strip()
    row.param_map = "\n".join(f"{var}={param}"
                              for var, param in parse_param_map(event, param_map or ""))
    row.updated_by_id = getattr(actor, "id", None)
    db.session.commit()
    return get_template(event, channel)


def reset_template(event: str, channel: str) -> None:
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.event == event, MessageTemplate.channel == channel))
    if row is not None:
        db.session.delete(row)
        db.session.commit()


def provider_params(event: str, param_map: str, params: dict, text: str) -> list[tuple]:
    values = {**{key: str(value) for key, value in params.items()}, TEXT_PARAM: text}
    return [(var, values.get(param, "")) for var, param in parse_param_map(event, param_map)]


@atomic
def preview(event: str, channel: str, text: str, template_code: str, param_map: str) -> dict:
    """What the message looks like with sample values, and what the provider is sent."""
    template_code, param_map = _provider_fields(channel, template_code, param_map)
    check_template(event, channel, text, template_code, param_map)
    samples = dict(EVENTS[event].params)
    body = render(text, samples)
    pairs = provider_params(event, param_map, samples, body)
    return {"text": body, "template_code": template_code, "params": pairs}
