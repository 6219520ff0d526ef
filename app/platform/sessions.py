"""Sign-in sessions that the server can end: a session version per account.

A session cookie carries the account's version at sign-in (SESSION_KEY). The user
loader accepts the cookie only while the account's version is still that one, so
`end_sessions` (sign-out, a password change or reset, disabling the account) ends
every session issued before it, on every device, whatever the browser kept.
"""

import functools

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.platform.models import AccountSession

SESSION_KEY = "_sv"


def account_and_version(user_id: int):
    """(the account, its session version) in one query, or (None, 0): every API request
    needs both, and a second round trip is a good part of what a small request costs."""
    row = db.session.execute(_account_and_version(current_app.appbuilder.sm.user_model),
                             {"user_id": user_id}).first()
    return (None, 0) if row is None else (row[0], row[1] or 0)


def version_of(user_id: int) -> int:
    return db.session.execute(_VERSION_OF, {"user_id": user_id}).scalar() or 0


# Built once with a bound parameter: SQLAlchemy then reuses the statement's cache key
# instead of building the statement and its key again on every request (a third of what
# the query costs on SQLite; bench/api.py).
@functools.cache
def _account_and_version(user_model):
    return (select(user_model, AccountSession.version)
            .outerjoin(AccountSession, AccountSession.user_id == user_model.id)
            .where(user_model.id == bindparam("user_id")))


_VERSION_OF = select(AccountSession.version).where(
    AccountSession.user_id == bindparam("user_id"))


def signed_in_account(user_id: int):
    """The account a session cookie speaks for, or None: it must be active and the cookie
    issued under the account's current version (one query for both)."""
    user, version = account_and_version(user_id)
    if user is None or not user.is_active or session.get(SESSION_KEY, 0) != version:
        return None
    return user


def end_sessions(user_id: int) -> int:
    """Raise the account's version (in the caller's transaction); returns the new one."""
    raised = db.session.execute(
        update(AccountSession).where(AccountSession.user_id == user_id)
        .values(version=AccountSession.version + 1)
        .execution_options(synchronize_session=False))
    if raised.rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(AccountSession(user_id=user_id, version=1))
        except IntegrityError:  # another request made the row meanwhile: raise that one
            return end_sessions(user_id)
    return version_of(user_id)


def sign_in(user) -> None:
    """Start a session for `user`, stamped with the account's current version."""
    session.pop("page_history", None)  # FAB's back-navigation of the previous person
    login_user(user, remember=False)
    session[SESSION_KEY] = version_of(user.id)


def sign_out(user) -> None:
    """End this session and every other session of the account."""
    end_sessions(user.id)
    db.session.commit()
    logout_user()
    session.pop(SESSION_KEY, None)
    session.pop("page_history", None)


def restamp(user) -> None:
    """After the person's own password change: keep this session, end the others."""
    session[SESSION_KEY] = version_of(user.id)
