"""Time: UTC in the database, the business's own time zone on screen and in day ranges."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# The distributor's time zone: days, months and order numbers are counted in it (the
# pages format times in it through BABEL_DEFAULT_TIMEZONE, the same zone).
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC, as stored in every DateTime column (shown in Asia/Shanghai by Babel)."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_date(moment: datetime | None = None):
    """The business's calendar day of a stored (naive UTC) moment, or of now."""
    moment = moment or utcnow()
    return moment.replace(tzinfo=UTC).astimezone(SHANGHAI).date()
