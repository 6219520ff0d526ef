"""Embedded default provider: keeps the message, sends nothing ("logged, not sent")."""

import logging

from ...models import MessageStatus
from . import ProviderResult

log = logging.getLogger(__name__)
NAME = "log"


def send(message) -> ProviderResult:
    log.info("message %s to %s (%s): %s", message.id, message.recipient, message.event,
             message.body)
    return ProviderResult(MessageStatus.LOGGED, NAME)
