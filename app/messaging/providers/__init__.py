"""Message providers, chosen per channel in config (`SMS_PROVIDER`, `WECHAT_PROVIDER`).

A provider module has `NAME` and `send(outgoing, config) -> ProviderResult`. It reads
its credentials from `config` (the app config, filled from the environment), touches no
database, and says what happened in one of four outcomes:

- SENT: the gateway accepted the message; it is never sent again.
- FAILED: refused for good (bad phone, template rejected, bad signature or secret);
  retrying cannot help, a person must look.
- RETRY: certainly not sent (connection refused, throttled, 5xx before acceptance);
  the delivery job tries again later with exponential backoff.
- UNCERTAIN: the request went out and no answer came back (read timeout); it may have
  been delivered, so only a person may resend it.

The embedded defaults are `log` (kept, "logged, not sent") and `inapp`.
"""

from dataclasses import dataclass, field
from importlib import import_module

from flask import current_app

from app.messaging.models import Channel


class Outcome:
    SENT = "sent"
    LOGGED = "logged"
    FAILED = "failed"
    RETRY = "retry"
    UNCERTAIN = "uncertain"


@dataclass
class Outgoing:
    """One message as a provider needs it: who, the text, and the provider template."""

    message_id: int
    recipient: str  # a mobile number (SMS) or an openid (WeChat)
    text: str  # the rendered body (in-app, log, and a fallback for WeChat)
    template_code: str = ""  # SMS template code / WeChat template id
    params: list[tuple[str, str]] = field(default_factory=list)  # (provider variable, value)
    event: str = ""


@dataclass
class ProviderResult:
    outcome: str  # an Outcome value
    provider: str
    error: str | None = None
    provider_ref: str | None = None  # the gateway's id for the message (BizId, SerialNo, msgid)


def sms_setup_problem(outgoing, config, provider: str, keys, template_word: str) -> str | None:
    """What keeps an SMS provider from sending this message (a setting, the template
    code, the phone number), in the words the message log translates, or None."""
    for key in keys:
        if not config.get(key):
            return f"{provider} is not configured: {key} is empty"
    if not outgoing.template_code:
        return f"{provider} is not configured: the message has no template {template_word}"
    if not outgoing.recipient:
        return f"{provider}: the message has no recipient phone number"
    return None


# Modules are imported on first use: an SDK is loaded only where it is configured.
PROVIDERS = {
    Channel.SMS: {"log": "log", "aliyun": "sms_aliyun", "tencent": "sms_tencent"},
    Channel.WECHAT: {"log": "log", "wechat": "wechat"},
    Channel.INAPP: {"inapp": "inapp"},
}


def provider_name(channel: str, config=None) -> str:
    config = config if config is not None else current_app.config
    if channel == Channel.INAPP:
        return "inapp"
    return config.get(f"{channel.upper()}_PROVIDER") or "log"


def provider_for(channel: str, config=None):
    name = provider_name(channel, config)
    module = PROVIDERS.get(channel, {}).get(name)
    if module is None:
        raise LookupError(f"unknown {channel} provider {name!r}")
    return import_module(f"{__name__}.{module}")
