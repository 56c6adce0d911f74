"""Token verification against a real Redis and MongoDB: what gets in and what does not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask import Flask

from rainbond_kit.auth import AuthSettings, init_auth
from rainbond_kit.embedded import RedisProcess
from tests.conftest import KitAppFactory
from tests.integration.auth_support import (  # noqa: F401 - fixtures
    SECRET,
    AuthCenter,
    add_routes,
    auth_app_fixture,
    auth_center_fixture,
    auth_env,
    own_redis_fixture,
)


def _b64(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(alg: str, ident: str, secret: str = SECRET, digest: Any = hashlib.sha512) -> str:
    now = int(time.time())
    head = f"{_b64({'alg': alg, 'iat': now, 'exp': now + 600})}.{_b64({'id': ident})}"
    if alg == "none":
        return head + "."
    return head + "." + _b64(hmac.new(secret.encode(), head.encode(), digest).digest())


@pytest.fixture
def alice(auth_center: AuthCenter) -> tuple[str, str]:
    auth_center.add_role("reader", [1])
    uid = auth_center.add_user(["reader"], ["g1"])
    return uid, auth_center.login(uid, "alice", "爱丽丝")


def test_valid_token_identifies_user(auth_app: Flask, alice: tuple[str, str]) -> None:
    """A token the auth center minted, with its login in Redis, yields the user and groups."""
    uid, token = alice
    response = auth_app.test_client().get("/me", headers={"token": token})
    assert response.status_code == 200
    assert response.get_json() == {"uid": uid, "user": "alice", "groups": ["g1"]}


def test_bearer_header_accepted(auth_app: Flask, alice: tuple[str, str]) -> None:
    """``Authorization: Bearer <token>`` works like the ``token`` header."""
    response = auth_app.test_client().get("/me", headers={"Authorization": f"Bearer {alice[1]}"})
    assert response.status_code == 200


def _rejected(app: Flask, headers: dict[str, str]) -> dict[str, Any]:
    response = app.test_client().get("/me", headers=headers)
    assert response.status_code == 401
    body: dict[str, Any] = response.get_json()
    assert body["code"] == 401
    return body


def test_missing_token(auth_app: Flask) -> None:
    """No token: 401 envelope saying which header to send."""
    assert _rejected(auth_app, {})["message"] == "missing token: send it in the 'token' header"


def test_tampered_token(auth_app: Flask, alice: tuple[str, str]) -> None:
    """Changing the payload (another user id) breaks the signature: 401."""
    uid, token = alice
    head, _, sig = token.split(".")
    tampered = f"{head}.{_b64({'id': f'{uid}--admin--x'})}.{sig}"
    assert _rejected(auth_app, {"token": tampered})["message"] == "token verification failed"


def test_wrong_secret(auth_app: Flask, alice: tuple[str, str]) -> None:
    """A well-formed token signed with another secret: 401."""
    ident = f"{alice[0]}--alice--爱丽丝"
    _rejected(auth_app, {"token": forge("HS512", ident, secret="another-secret")})


@pytest.mark.parametrize(("alg", "digest"), [("none", None), ("HS256", hashlib.sha256)])
def test_other_algorithms_rejected(
    auth_app: Flask, alice: tuple[str, str], alg: str, digest: Any
) -> None:
    """``alg`` none, or HS256 signed with the right secret, is refused: HS512 is pinned."""
    ident = f"{alice[0]}--alice--爱丽丝"
    _rejected(auth_app, {"token": forge(alg, ident, digest=digest)})


def test_hand_forged_hs512_accepted(auth_app: Flask, alice: tuple[str, str]) -> None:
    """Control for the above: the same forging code with HS512 and the secret is accepted."""
    token = forge("HS512", f"{alice[0]}--alice--爱丽丝")
    assert auth_app.test_client().get("/me", headers={"token": token}).status_code == 200


def test_expired_token(auth_app: Flask, auth_center: AuthCenter) -> None:
    """A token whose header ``exp`` passed more than the leeway ago: 401."""
    uid = auth_center.add_user([])
    token = auth_center.login(uid, "bob", now=int(time.time()) - 100, expires_in=60)
    _rejected(auth_app, {"token": token})


def test_logged_out_session(auth_app: Flask, auth_center: AuthCenter) -> None:
    """Logout deletes the Redis key; a newer login replaces it: the old token gets 401."""
    uid = auth_center.add_user([])
    token = auth_center.login(uid, "carol")
    client = auth_app.test_client()
    assert client.get("/me", headers={"token": token}).status_code == 200
    auth_center.sessions.delete(uid)
    assert _rejected(auth_app, {"token": token})["message"] == "the session has ended: log in again"
    auth_center.sessions.set(uid, f"{uid}--carol--someone else")
    _rejected(auth_app, {"token": token})


def test_unknown_user(auth_app: Flask, auth_center: AuthCenter) -> None:
    """A logged-in token for a user the auth database no longer has: 401."""
    token = auth_center.login("65f000000000000000000000", "ghost")
    auth_center.users.append("65f000000000000000000000")
    body = _rejected(auth_app, {"token": token})
    assert body["message"] == "the user no longer exists in the auth center"


def test_redis_down_fails_closed(
    own_redis: RedisProcess,
    mongo_uri: str,
    mongo_db_name: str,
    make_kit_app: KitAppFactory,
    auth_center: AuthCenter,
) -> None:
    """With the auth center's Redis stopped, protected routes answer 503, never pass."""
    app = make_kit_app({"MONGODB_URI": mongo_uri, "REDIS_URL": own_redis.url})
    init_auth(app, AuthSettings.from_env(auth_env(mongo_db_name)))
    add_routes(app)
    uid = auth_center.add_user([])
    token = auth_center.login(uid, "dave")
    own_redis.stop()
    response = app.test_client().get("/me", headers={"token": token})
    assert response.status_code == 503
    assert response.get_json()["message"] == "auth session store is unavailable"


def test_debug_user_bypass_warns_every_request(
    make_kit_app: KitAppFactory,
    rainbond_env: dict[str, str],
    mongo_db_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """RAINBOND_AUTH_DEBUG_USER authenticates without a token and logs a warning each time."""
    env = auth_env(mongo_db_name, RAINBOND_AUTH_DEBUG_USER="0f0f--dev--开发者")
    app = make_kit_app(rainbond_env)
    init_auth(app, AuthSettings.from_env(env))
    add_routes(app)
    client = app.test_client()
    caplog.clear()
    for _ in range(2):
        assert client.get("/me").get_json() == {"uid": "0f0f", "user": "dev", "groups": []}
    bypass = [r for r in caplog.records if "auth BYPASSED" in r.getMessage()]
    assert len(bypass) == 2
