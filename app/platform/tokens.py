"""API tokens: a short-lived access token and a refresh token (flask-jwt-extended), both
carrying the account's session version (platform/sessions.py).

A token is accepted only while the account is active and its version is still the one
the token carries, so signing out, a password change or reset and disabling the account
revoke every token of the account, as they end every web session.
"""

import threading
import time

from flask import current_app
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token

from app.platform import ids, sessions

VERSION_CLAIM = "sv"
VERIFIED_CACHE_SIZE = 4096  # tokens; a full cache starts again empty


class VerifiedTokens(JWTManager):
    """flask-jwt-extended's manager that remembers the claims of the tokens it verified.

    Decoding a token is PyJWT twice (its claims unverified for the key callback, then
    verified): a good part of what a small API request costs. The cache is keyed by the
    whole token text, signature included, so only a token byte for byte the same as one
    verified before is answered from it, and only until its `exp`; revocation is not
    cached (tokens.user_for checks the account and its session version every request).
    Overrides a private method of flask-jwt-extended (pinned; tests/test_api_auth.py checks
    that tampered, expired and revoked tokens are still refused)."""

    def __init__(self, app=None, add_context_processor=False):
        self._verified: dict[str, dict] = {}
        self._verified_lock = threading.Lock()
        super().__init__(app, add_context_processor)

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        claims = self._verified.get(encoded_token)
        if claims is not None and time.time() < claims["exp"]:
            return dict(claims)
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if isinstance(claims.get("exp"), int | float):
            with self._verified_lock:
                if len(self._verified) >= VERIFIED_CACHE_SIZE:
                    self._verified.clear()
                self._verified[encoded_token] = dict(claims)
        return claims


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
