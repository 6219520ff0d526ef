"""API tokens: a short-lived access token and a refresh token (flask-jwt-extended), both
carrying the account's session version (platform/sessions.py).

A token is accepted only while the account is active and its version is still the one
the token carries, so signing out, a password change or reset and disabling the account
revoke every token of the account, as they end every web session.
"""

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from app.platform import ids, sessions

VERSION_CLAIM = "sv"


def issue(user, refresh: bool = True) -> dict:
    claims = {VERSION_CLAIM: sessions.version_of(user.id)}
    ttl = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    tokens = {"access_token": create_access_token(identity=str(user.id),
                                                  additional_claims=claims),
              "token_type": "Bearer", "expires_in": int(ttl.total_seconds())}
    if refresh:
        tokens["refresh_token"] = create_refresh_token(identity=str(user.id),
                                                       additional_claims=claims)
    return tokens


def user_for(jwt_data: dict):
    """The account a verified token speaks for, or None once it has been revoked."""
    user_id = ids.parse_id(str(jwt_data.get("sub", "")))
    if user_id is None:
        return None
    user, version = sessions.account_and_version(user_id)
    if user is None or not user.active or jwt_data.get(VERSION_CLAIM) != version:
        return None
    return user
