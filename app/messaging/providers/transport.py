"""What a failed HTTP call to an SMS gateway means for the message, shared by the SDK
providers: both SDKs send with requests and hide its exception behind their own."""

import requests
from urllib3.exceptions import NewConnectionError

from app.messaging.providers import Outcome, ProviderResult


def sms_transport_failure(provider: str, cause: BaseException | None, fallback_kind: str,
                          connect_s: float, read_s: float) -> ProviderResult:
    """Tell "never reached the gateway" (RETRY) from "sent, answer lost" (UNCERTAIN), given
    the requests exception the SDK raised from (`cause`, None when it kept none)."""
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return ProviderResult(Outcome.RETRY, provider,
                              error=f"no connection to the gateway within {connect_s:g} s")
    if isinstance(cause, requests.exceptions.ReadTimeout):
        return ProviderResult(Outcome.UNCERTAIN, provider,
                              error=f"no answer within {read_s:g} s; the SMS may have been sent")
    # Refused, unreachable or DNS failure: requests wraps urllib3's MaxRetryError, whose
    # reason is NewConnectionError (NameResolutionError is a subclass).
    reason = getattr(cause.args[0], "reason", None) if cause and cause.args else None
    if isinstance(reason, NewConnectionError):
        why = reason.__cause__ or reason  # the OSError / gaierror, without the URL
        return ProviderResult(Outcome.RETRY, provider,
                              error=f"could not connect to the gateway: {why}")
    # Anything else (connection dropped after sending, a body cut short, an answer that is
    # not JSON, such as a proxy's HTML 502) happened after the request may have gone out:
    # only a person may resend. str(cause) is not used: it holds the URL, whose query may
    # carry the phone number and parameters.
    kind = type(cause).__name__ if cause else fallback_kind
    error = f"no usable answer from the gateway ({kind}); the SMS may have been sent"
    return ProviderResult(Outcome.UNCERTAIN, provider, error=error)
