"""The back office's view of the outbox: the message log and the outbox summary.

Pages are keyset-paginated newest first by id, and only the statuses that stay small
(waiting, or needing a person) are counted, so each page costs about the same with ten
thousand messages or millions (bench/message_log.py). Read-only: nothing here commits.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import to_utc
from sqlalchemy import exists, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.messaging.events import EVENTS, secret_events
from app.messaging.jobs import job_lost
from app.messaging.models import Channel, Message, MessageStatus
from app.platform import ids
from app.platform.time import utcnow

PAGE_SIZES = (25, 50, 100)
# Statuses counted exactly (they stay small); delivered ones are counted for a recent
# window only.
ATTENTION = (MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.FAILED,
             MessageStatus.UNCERTAIN)
DELIVERED = (MessageStatus.SENT, MessageStatus.LOGGED)
RECENT = timedelta(hours=1)
SEARCH_MAX = 64
MOBILE = re.compile(r"1\d{10}")


def _date(value):
    """A day, or None for anything else (years outside 2000-2999 included: far dates
    overflow when moved to UTC)."""
    try:
        day = datetime.strptime(str(value).strip(), "%Y-%m-%d")
    except (TypeError, ValueError):
        return None
    return day if 2000 <= day.year <= 2999 else None


@dataclass
class LogFilters:
    """The log's filters; values that mean nothing are dropped, never an error."""

    status: str = ""
    channel: str = ""
    event: str = ""
    date_from: datetime | None = None  # a day in Asia/Shanghai
    date_until: datetime | None = None  # inclusive
    q: str = ""  # part of the recipient or of the content
    read_secrets: bool = False  # may search the content of a code's message

    @classmethod
    def from_args(cls, args, read_secrets: bool = False) -> "LogFilters":
        # `_flt_0_status` / `_flt_0_recipient`: links made for the former FAB list.
        status = args.get("status") or args.get("_flt_0_status") or ""
        return cls(status=status if status in MessageStatus.ALL else "",
                   channel=args.get("channel") if args.get("channel") in Channel.ALL else "",
                   event=args.get("event") if args.get("event") in EVENTS else "",
                   date_from=_date(args.get("from")), date_until=_date(args.get("until")),
                   q=(args.get("q") or args.get("_flt_0_recipient") or "").strip()[:SEARCH_MAX],
                   read_secrets=read_secrets)

    def values(self) -> dict:
        """The filters as query-string values (empty ones left out)."""
        values = {"status": self.status, "channel": self.channel, "event": self.event,
                  "from": self.date_from.strftime("%Y-%m-%d") if self.date_from else "",
                  "until": self.date_until.strftime("%Y-%m-%d") if self.date_until else "",
                  "q": self.q}
        return {k: v for k, v in values.items() if v}

    def conditions(self, with_status: bool = True) -> list:
        found = []
        if with_status and self.status:
            found.append(Message.status == self.status)
        if self.channel:
            found.append(Message.channel == self.channel)
        if self.event:
            found.append(Message.event == self.event)
        # Dates are days in Asia/Shanghai; the database keeps naive UTC.
        if self.date_from:
            found.append(Message.created_at >= to_utc(self.date_from))
        if self.date_until:
            until = to_utc(self.date_until + timedelta(days=1))  # naive UTC
            found.append(Message.created_at < until)
        if self.q:
            found.append(self._search())
        return found


    def _search(self):
        """A whole mobile number: the messages to that phone and to its account on every
        channel (in-app, WeChat). Anything else: a recipient by its beginning (part of a
        phone number, an openid) or the content anywhere (an order number, a name)."""
        recipient = Message.recipient.startswith(self.q, autoescape=True)
        if MOBILE.fullmatch(self.q):
            # Ids looked up first: inside an OR, a subquery hides from the planner how
            # few rows match, and it walks the whole table instead.
            users = current_app.appbuilder.sm.user_model
            user_ids = db.session.scalars(
                select(users.id).where(users.username == self.q)).all()
            return or_(recipient, Message.user_id.in_(user_ids)) if user_ids else recipient
        content = Message.body.contains(self.q, autoescape=True)
        if not self.read_secrets:  # a code must not be found by guessing it
            content = content & Message.event.notin_(secret_events())
        return or_(recipient, content)


@dataclass
class LogPage:
    messages: list
    newer: int | None  # `after=` for the page of newer messages, None on the newest
    older: int | None  # `before=` for the page of older messages, None on the oldest
    size: int = PAGE_SIZES[0]  # messages a page (one of PAGE_SIZES)


def log_page(filters: LogFilters, *, before=None, after=None, size=PAGE_SIZES[0]) -> LogPage:
    """One page of the log, newest first: the `size` messages older than message
    `before`, or newer than message `after`, or the newest ones.

    Newest means the highest id, or, under a date filter, the latest written time (then
    the (created_at, id) index serves the day directly instead of a walk down the ids)."""
    size = ids.parse_id(size) if ids.parse_id(size) in PAGE_SIZES else PAGE_SIZES[0]
    key = ((Message.created_at, Message.id) if filters.date_from or filters.date_until
           else (Message.id,))
    sort_key = tuple_(*key) if len(key) > 1 else key[0]

    def key_of(message_id):
        """The sort key of message `message_id`, or None for a cursor that means nothing."""
        message_id = ids.parse_id(message_id)
        if message_id is None:
            return None
        if len(key) == 1:
            return message_id
        row = db.session.execute(select(*key).where(Message.id == message_id)).first()
        return tuple_(*row) if row else None

    def key_value(message):
        return tuple_(*(getattr(message, column.key) for column in key)) \
            if len(key) > 1 else message.id

    where = filters.conditions()
    query = select(Message).where(*where).options(selectinload(Message.user))
    older_than, newer_than = key_of(before), None if before else key_of(after)

    def any_where(condition) -> bool:
        return bool(db.session.scalar(select(exists().where(*where, condition))))

    # One row more than the page says whether there is more that way; the other way
    # is asked only when a cursor was given (the newest page has nothing newer).
    if newer_than is not None:
        rows = db.session.scalars(query.where(sort_key > newer_than)
                                  .order_by(*(column.asc() for column in key))
                                  .limit(size + 1)).all()
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        if not rows:
            return LogPage([], None, None, size)
        newer = rows[0].id if more_newer else None
        older = rows[-1].id if any_where(sort_key < key_value(rows[-1])) else None
    else:
        if older_than is not None:
            query = query.where(sort_key < older_than)
        rows = db.session.scalars(query.order_by(*(column.desc() for column in key))
                                  .limit(size + 1)).all()
        more_older = len(rows) > size
        rows = rows[:size]
        if not rows:
            return LogPage([], None, None, size)
        older = rows[-1].id if more_older else None
        newer = rows[0].id if older_than is not None and \
            any_where(sort_key > key_value(rows[0])) else None
    return LogPage(rows, newer, older, size)


def attention_counts(filters: LogFilters) -> dict[str, int]:
    """How many messages of each small status match the other filters (the tabs)."""
    rows = db.session.execute(
        select(Message.status, func.count(Message.id))
        .where(Message.status.in_(ATTENTION), *filters.conditions(with_status=False))
        .group_by(Message.status)).all()
    return {status: count for status, count in rows}


def needing_a_person() -> int:
    """Failed and uncertain messages: the back-office home shows this number."""
    return db.session.scalar(select(func.count(Message.id)).where(
        Message.status.in_(MessageStatus.RETRYABLE_BY_HAND))) or 0


def outbox_summary(sweep_after_seconds: float, now: datetime | None = None) -> dict:
    """The outbox for the queue state page.

    waiting: {(status, channel): n} for the ATTENTION statuses, all time;
    recent: {(status, channel): n} delivered in the last RECENT;
    oldest: the oldest pending message (id, created_at, due_at) or None;
    overdue: pending messages due longer ago than the sweep waits for their job.
    """
    now = now or utcnow()
    waiting = {(status, channel): n for status, channel, n in db.session.execute(
        select(Message.status, Message.channel, func.count(Message.id))
        .where(Message.status.in_(ATTENTION))
        .group_by(Message.status, Message.channel)).all()}
    recent = {(status, channel): n for status, channel, n in db.session.execute(
        select(Message.status, Message.channel, func.count(Message.id))
        .where(Message.created_at >= now - RECENT, Message.status.in_(DELIVERED))
        .group_by(Message.status, Message.channel)).all()}
    oldest = db.session.execute(
        select(Message.id, Message.created_at, Message.due_at)
        .where(Message.status == MessageStatus.PENDING)
        .order_by(Message.id).limit(1)).first()
    overdue = db.session.scalar(select(func.count(Message.id)).where(
        job_lost(now - timedelta(seconds=sweep_after_seconds)))) or 0
    return {"waiting": waiting, "recent": recent, "oldest": oldest, "overdue": overdue}
