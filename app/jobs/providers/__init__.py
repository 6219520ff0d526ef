"""Message providers: one `send(message) -> ProviderResult` per provider name.

The embedded default is `log` for SMS and WeChat (kept, not sent) and `inapp` for the
in-app channel (the row itself is the delivery). Real SMS and WeChat providers come
with the messaging issue and are chosen per channel in config.
"""

from dataclasses import dataclass

from flask import current_app

from ...models import Channel


@dataclass
class ProviderResult:
    status: str  # a MessageStatus value
    provider: str
    error: str | None = None


def provider_for(channel: str):
    from . import inapp, log

    if channel == Channel.INAPP:
        return inapp
    name = current_app.config.get(f"{channel.upper()}_PROVIDER", "log")
    providers = {"log": log}
    if name not in providers:
        raise LookupError(f"unknown {channel} provider {name!r}")
    return providers[name]
