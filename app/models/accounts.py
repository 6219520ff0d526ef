"""Server-side state of an account's sign-ins."""

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer


class AccountSession(Model):
    """The session version of an account. Every session cookie records the version it was
    issued under; signing out, a password change or reset and disabling the account raise
    it, so every cookie issued before is refused on the server (a copied cookie included).
    No row means version 0."""

    __tablename__ = "account_session"
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    version = Column(Integer, nullable=False, default=0)
