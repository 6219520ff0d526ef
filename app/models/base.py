"""Small column helpers shared by the models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, as stored in every DateTime column (shown in Asia/Shanghai by Babel)."""
    return datetime.now(UTC).replace(tzinfo=None)
