"""Auth-center tokens: the legacy itsdangerous 2.0 ``TimedJSONWebSignatureSerializer`` format.

A token is a compact JWS signed with HMAC-SHA512 under ``SECRET_KEY`` (no key derivation)::

    b64url({"alg":"HS512","iat":<int>,"exp":<int>}) . b64url({"id":"<uid>--<user>--<real>"}) . b64url(sig)

base64url without padding, JSON with ``(",", ":")`` separators and ASCII escapes. The expiry
lives in the *header*, which the signature covers; PyJWT verifies the signature (constant-time,
``alg`` pinned to HS512) and this module enforces ``exp`` itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from rainbond_kit.errors import RainbondError

__all__ = ["ALGORITHM", "InvalidTokenError", "TokenClaims", "decode_token", "mint_token"]

ALGORITHM = "HS512"
SEPARATOR = "--"


class InvalidTokenError(RainbondError):
    """The token is malformed, wrongly signed, signed with another algorithm, or expired."""


class _LegacyHS512(HMACAlgorithm):
    """HS512 without PyJWT's minimum-key-length warning.

    Deployed auth centers use whatever ``SECRET_KEY`` they were given; their tokens must keep
    working. The short-key risk is reported once, at start-up (see ``docs/auth.md``).
    """

    def check_key_length(self, key: bytes) -> str | None:
        return None


_JWS = jwt.PyJWS(algorithms=[])
_JWS.register_algorithm(ALGORITHM, _LegacyHS512(HMACAlgorithm.SHA512))


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says: the user and the signed issue/expiry times."""

    uid: str
    user_name: str
    real_name: str
    issued_at: int
    expires_at: int

    @property
    def session_id(self) -> str:
        """The ``uid--user_name--real_name`` string the auth center stores in Redis at ``uid``."""
        return session_id(self.uid, self.user_name, self.real_name)


def session_id(uid: str, user_name: str, real_name: str) -> str:
    """Join the three identity parts the way the auth center does."""
    return SEPARATOR.join((uid, user_name, real_name))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


def mint_token(
    secret_key: str,
    uid: str,
    user_name: str,
    real_name: str,
    *,
    expires_in: int = 3600,
    now: int | None = None,
) -> str:
    """Mint a token exactly as the auth center does (for tests and ``rainbond-kit token``)."""
    for name, part in (("uid", uid), ("user_name", user_name)):
        if not part or SEPARATOR in part:
            raise ValueError(f"{name} must be non-empty and must not contain {SEPARATOR!r}")
    issued = int(time.time()) if now is None else now
    header = {"alg": ALGORITHM, "iat": issued, "exp": issued + expires_in}
    signing_input = (
        _b64(_compact(header))
        + b"."
        + _b64(_compact({"id": session_id(uid, user_name, real_name)}))
    )
    signature = hmac.new(secret_key.encode("utf-8"), signing_input, hashlib.sha512).digest()
    return (signing_input + b"." + _b64(signature)).decode("ascii")


def decode_token(
    token: str, secret_key: str, *, leeway: int = 0, now: float | None = None
) -> TokenClaims:
    """Verify ``token`` and return its claims.

    :raises InvalidTokenError: bad format or signature, another ``alg``, missing or passed ``exp``.
    """
    try:
        decoded = _JWS.decode_complete(
            token.encode("ascii"), secret_key.encode("utf-8"), algorithms=[ALGORITHM]
        )
    except (jwt.PyJWTError, UnicodeError, ValueError) as exc:
        raise InvalidTokenError(f"token rejected: {type(exc).__name__}") from None
    header: dict[str, Any] = decoded["header"]
    expires_at = header.get("exp")
    if not isinstance(expires_at, int) or isinstance(expires_at, bool) or expires_at < 0:
        raise InvalidTokenError("token has no valid expiry")
    current = time.time() if now is None else now
    if expires_at + leeway < current:
        raise InvalidTokenError("token expired")
    try:
        payload = json.loads(decoded["payload"])
    except ValueError:
        raise InvalidTokenError("token payload is not JSON") from None
    ident = payload.get("id") if isinstance(payload, dict) else None
    parts = ident.split(SEPARATOR, 2) if isinstance(ident, str) else []
    if len(parts) != 3 or not parts[0]:
        raise InvalidTokenError("token payload has no 'uid--user_name--real_name' id")
    issued = header.get("iat")
    return TokenClaims(
        uid=parts[0],
        user_name=parts[1],
        real_name=parts[2],
        issued_at=issued if isinstance(issued, int) else 0,
        expires_at=expires_at,
    )
