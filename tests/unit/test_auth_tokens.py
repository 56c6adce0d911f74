"""Legacy token format: byte-for-byte what itsdangerous 2.0's TimedJSONWebSignatureSerializer made."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from rainbond_kit.auth.tokens import InvalidTokenError, TokenClaims, decode_token, mint_token

SECRET = "short-legacy-secret"  # shorter than 64 bytes, as deployed auth centers have


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_built(secret: str, ident: str, iat: int, exp: int) -> str:
    """The itsdangerous 2.0 algorithm, written out: compact JSON, HMAC-SHA512, no key derivation."""
    header = json.dumps({"alg": "HS512", "iat": iat, "exp": exp}, separators=(",", ":"))
    payload = json.dumps({"id": ident}, separators=(",", ":"))
    signing_input = f"{_b64(header.encode())}.{_b64(payload.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_mint_matches_hand_built() -> None:
    """mint_token produces exactly the hand-computed legacy token (Chinese name escaped)."""
    expected = hand_built(SECRET, "5f1--alice--爱丽丝", 1_700_000_000, 1_700_003_600)
    assert mint_token(SECRET, "5f1", "alice", "爱丽丝", now=1_700_000_000) == expected


def test_decode_hand_built() -> None:
    """A hand-built token decodes to its claims, with a short key and no warning."""
    token = hand_built(SECRET, "5f1--alice--A--B", 100, 200)
    assert decode_token(token, SECRET, now=150) == TokenClaims("5f1", "alice", "A--B", 100, 200)


@pytest.mark.parametrize(
    ("now", "leeway", "valid"), [(200, 0, True), (201, 0, False), (204, 5, True), (206, 5, False)]
)
def test_expiry_from_header(now: int, leeway: int, valid: bool) -> None:
    """``exp`` is read from the signed header: valid until exp + leeway, inclusive."""
    token = hand_built(SECRET, "u--n--r", 100, 200)
    if valid:
        assert decode_token(token, SECRET, leeway=leeway, now=now).uid == "u"
    else:
        with pytest.raises(InvalidTokenError, match="expired"):
            decode_token(token, SECRET, leeway=leeway, now=now)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "a.b.c",
        hand_built(SECRET, "no-separators", 100, 200),
        hand_built(SECRET, "--user--real", 100, 200),
    ],
)
def test_malformed_rejected(token: str) -> None:
    """Garbage, or a payload without a 'uid--user--real' id, is an InvalidTokenError."""
    with pytest.raises(InvalidTokenError):
        decode_token(token, SECRET, now=150)


def test_header_without_exp_rejected() -> None:
    """A correctly signed token without ``exp`` is refused (itsdangerous did the same)."""
    header, payload = _b64(b'{"alg":"HS512"}'), _b64(b'{"id":"u--n--r"}')
    signing_input = f"{header}.{payload}"
    sig = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha512).digest()
    with pytest.raises(InvalidTokenError, match="expiry"):
        decode_token(f"{signing_input}.{_b64(sig)}", SECRET, now=0)


def test_mint_rejects_separator_in_names() -> None:
    """A user name containing '--' could not be parsed back: refused."""
    with pytest.raises(ValueError, match="user_name"):
        mint_token(SECRET, "u", "a--b", "r")
