"""Sign-in sessions that the server can end: a session version per account.

A session cookie carries the account's version at sign-in (SESSION_KEY). The user
loader accepts the cookie only while the account's version is still that one, so
`end_sessions` (sign-out, a password change or reset, disabling the account) ends
every session issued before it, on every device, whatever the browser kept.
"""

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.platform.models import AccountSession

SESSION_KEY = "_sv"


def account_and_version(user_id: int):
    """(the account, its session version) in one query, or (None, 0): every API request
    needs both, and a second round trip is a good part of what a small request costs."""
    user_model = current_app.appbuilder.sm.user_model
    row = db.session.execute(
        select(user_model, AccountSession.version)
        .outerjoin(AccountSession, AccountSession.user_id == user_model.id)
        .where(user_model.id == user_id)).first()
    return (None, 0) if row is None else (row[0], row[1] or 0)


def version_of(user_id: int) -> int:
    return db.session.scalar(select(AccountSession.version).where(
        AccountSession.user_id == user_id)) or 0


def is_current(user) -> bool:
    """Whether the signed-in request's cookie was issued under the account's version."""
    return session.get(SESSION_KEY, 0) == version_of(user.id)


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
