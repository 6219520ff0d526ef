"""Embedded default provider: keeps the message, sends nothing ("logged, not sent")."""

import logging

from app.messaging.providers import Outcome, ProviderResult

log = logging.getLogger(__name__)
NAME = "log"


def send(outgoing, config) -> ProviderResult:
    log.info("message %s to %s (%s): %s", outgoing.message_id, outgoing.recipient,
             outgoing.event, outgoing.text)
    return ProviderResult(Outcome.LOGGED, NAME)
