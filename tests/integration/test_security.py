"""End-to-end attacks on the assembled sample app (real MongoDB wire server and Redis).

The per-module tests prove each defence in isolation; this suite proves they hold once the
pieces are assembled: operator injection through every input, ReDoS, traversal, oversized
bodies, CORS, token forgery and forged session cookies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.auth import AuthSettings
from rainbond_kit.files import send_download, stream_file
from tests.integration.auth_support import (  # noqa: F401 - fixture
    SECRET,
    AuthCenter,
    auth_center_fixture,
    unique_name,
)

BOOKS, DEMO = "/api/v1/books", "/api/v1/demo"
AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(rainbond_settings: Settings) -> Iterator[AppFactory]:
    """Factory: the sample app with extra config (and auth); shut down afterwards."""
    apps: list[Flask] = []

    def make(auth: AuthSettings | None = None, **config: Any) -> Flask:
        app = create_app(rainbond_settings, {"TESTING": False, **config}, auth=auth)
        apps.append(app)
        return app

    yield make
    for app in apps:
        RainbondKit.shutdown(app)


@pytest.fixture
def client(make_app: AppFactory) -> FlaskClient:
    return make_app().test_client()


@pytest.fixture
def secured(make_app: AppFactory, auth_center: AuthCenter) -> FlaskClient:
    return make_app(AuthSettings.from_env(auth_center.env)).test_client()


def _envelope(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert body["code"] == status
    assert {"message", "server_time", "host_name"} <= body.keys()
    return body


def _titles(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"{BOOKS}?{query}")
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


# --- NoSQL operator injection --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "title[$ne]=",
        "$where=1",
        "title.$ne=x",
        "$or=x",
        "remove_time[ne]=",
        "_id=x",
        "title[regex]=.*",
    ],
)
def test_query_string_operators_are_refused(client: FlaskClient, query: str) -> None:
    """Mongo operators, dotted paths and hidden fields in the query string are 400 envelopes."""
    _envelope(client.get(f"{BOOKS}?{query}"), 400)


def test_operator_text_in_a_value_is_a_literal(client: FlaskClient) -> None:
    """A JSON operator object sent as a value matches only that literal text."""
    client.post(BOOKS, json={"title": "plain", "author": "a"})
    client.post(BOOKS, json={"title": 'x{"$ne": ""}y', "author": "a"})
    assert _titles(client, 'title={"$ne": ""}') == ['x{"$ne": ""}y']
    assert _titles(client, "title=.*") == []


@pytest.mark.parametrize(
    "body",
    [
        {"$set": {"title": "x"}},
        {"title": {"$ne": ""}, "author": "a"},
        {"title": "t", "author": "a", "$where": "1"},
        {"title": "t", "author": {"$gt": ""}},
        {"title": "t", "author": "a", "remove_time": None},
        {"title": "t", "author": "a", "_id": "65f000000000000000000001"},
    ],
)
def test_operator_bodies_are_refused_on_every_write(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    """POST, PUT and PATCH refuse operator objects, extra operators and internal fields (422)."""
    book = client.post(BOOKS, json={"title": "t", "author": "a"}).get_json()
    _envelope(client.post(BOOKS, json=body), 422)
    _envelope(client.put(f"{BOOKS}/{book['id']}", json=body), 422)
    _envelope(client.patch(f"{BOOKS}/{book['id']}", json=body), 422)
    assert client.get(f"{BOOKS}/{book['id']}").get_json()["title"] == "t"


@pytest.mark.parametrize(
    "body",
    [
        {"title": {"$ne": ""}},
        {"$where": "this.title"},
        {"$or": [{"title": "a"}]},
        {"title[in]": [{"$gt": ""}]},
        {"$orderby": {"$natural": 1}},
    ],
)
def test_search_body_operators_are_refused(client: FlaskClient, body: dict[str, Any]) -> None:
    """The JSON search body obeys the same allow-list as the query string."""
    _envelope(client.post(f"{BOOKS}/search", json=body), 400)


def test_compat_demo_refuses_operators(client: FlaskClient) -> None:
    """The seed-style endpoint: an operator id updates and deletes nothing."""
    client.post(DEMO, json={"title": "keep", "author": "a"})
    _envelope(client.get(f"{DEMO}?title[$ne]="), 400)
    _envelope(client.put(DEMO, json={"id": {"$ne": ""}, "title": "x", "author": "y"}), 400)
    _envelope(client.delete(DEMO, json={"id": {"$gt": ""}}), 400)
    _envelope(client.post(DEMO, json={"title": {"$ne": ""}, "author": "a"}), 400)
    assert _titles(client, "title=keep") == ["keep"]


@pytest.mark.parametrize(
    "token",
    ['{"$ne": null}', '{"uid": {"$gt": ""}}', "null", "a.b.c", "[]", "x" * 5000],
)
def test_token_header_with_json_is_401(secured: FlaskClient, token: str) -> None:
    """A token header holding JSON, operators or junk is a 401, never a lookup by operator."""
    _envelope(secured.get(BOOKS, headers={"token": token}), 401)
    _envelope(secured.get(BOOKS, headers={"Authorization": f"Bearer {token}"}), 401)


def test_forwarded_for_spoofing_does_not_reset_the_limit(make_app: AppFactory) -> None:
    """Without trusted proxies a new X-Forwarded-For per request still counts as one client."""
    client = make_app(RAINBOND_RATELIMIT="3/minute").test_client()
    statuses = [
        client.get(
            BOOKS, headers={"X-Forwarded-For": f"10.0.0.{i}", "X-Real-IP": f"10.1.0.{i}"}
        ).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", BOOKS, b'{"title": "\\ud800x", "author": "a"}'),
        ("POST", f"{BOOKS}/search", b'{"title": "\\udfff"}'),
        ("POST", DEMO, b'{"title": "\\ud800", "author": "a"}'),
    ],
)
def test_lone_surrogates_in_json_are_a_400(
    client: FlaskClient, method: str, url: str, body: bytes
) -> None:
    """Regression: a JSON escape of a lone surrogate (valid JSON, not storable) is a 400, not a 500."""
    response = client.open(url, method=method, data=body, content_type="application/json")
    assert _envelope(response, 400)["message"] == "text must be valid Unicode (no lone surrogates)"
    assert client.get(BOOKS).get_json()["total"] == 0


def test_lone_surrogate_in_a_replace_is_a_400(client: FlaskClient) -> None:
    """Regression: PUT and PATCH with a lone surrogate leave the book unchanged."""
    book = client.post(BOOKS, json={"title": "t", "author": "a"}).get_json()
    for method in ("PUT", "PATCH"):
        response = client.open(
            f"{BOOKS}/{book['id']}",
            method=method,
            data=b'{"title": "\\ud800", "author": "a"}',
            content_type="application/json",
        )
        _envelope(response, 400)
    assert client.get(f"{BOOKS}/{book['id']}").get_json()["title"] == "t"


# --- ReDoS -------------------------------------------------------------------------------


#: 480 characters: its escaped pattern (~900) fits SecantusDB's 1000-character regex cap.
PATHOLOGICAL = ("(a+)+$" * 80)[:480]
#: The longest value the parser accepts, all metacharacters.
PATHOLOGICAL_MAX = ("(a+)+$" * 200)[:1000]


def _timed_get(client: FlaskClient, url: str) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.get(url)
    return response, time.perf_counter() - started


@pytest.mark.parametrize("op", ["", "[contains]", "[icontains]", "[startswith]"])
def test_pathological_patterns_are_literal_and_fast(client: FlaskClient, op: str) -> None:
    """A catastrophic-backtracking pattern is matched literally, in well under 1 s."""
    short = PATHOLOGICAL[:190]  # a title holds at most 200 characters
    client.post(BOOKS, json={"title": "a" * 60 + "!", "author": "a"})
    assert client.post(BOOKS, json={"title": f"x{short}y", "author": "a"}).status_code == 201
    response, elapsed = _timed_get(client, f"{BOOKS}?title{op}={quote(PATHOLOGICAL)}")
    assert response.status_code == 200
    assert response.get_json()["items"] == []
    print(f"ReDoS title{op or '='} (480 chars): {elapsed * 1000:.1f} ms")
    assert elapsed < 1.0
    expected = [] if op == "[startswith]" else [f"x{short}y"]
    assert _titles(client, f"title{op}={quote(short)}") == expected


def test_longest_pathological_value_answers_fast(client: FlaskClient) -> None:
    """A 1000-char pattern of metacharacters: a fast answer, never a match by regex semantics.

    Its escaped form (1,800+ characters) passes MongoDB's limit but not SecantusDB's
    1000-character cap, which answers the documented 400 envelope.
    """
    client.post(BOOKS, json={"title": "a" * 60 + "!", "author": "a"})
    response, elapsed = _timed_get(client, f"{BOOKS}?title={quote(PATHOLOGICAL_MAX)}")
    print(f"ReDoS title= (1000 chars): {elapsed * 1000:.1f} ms, {response.status_code}")
    assert elapsed < 1.0
    if response.status_code == 200:
        assert response.get_json()["items"] == []
    else:
        assert _envelope(response, 400)["message"] == "the database rejected the query"


def test_pathological_pattern_on_the_compat_endpoint(client: FlaskClient) -> None:
    """The compat find_paging escapes the same pattern."""
    client.post(DEMO, json={"title": "a" * 60 + "!", "author": "a"})
    response, elapsed = _timed_get(client, f"{DEMO}?title={quote(PATHOLOGICAL)}")
    assert response.status_code == 200
    assert response.get_json()["total"] == 0
    print(f"ReDoS demo title= (480 chars): {elapsed * 1000:.1f} ms")
    assert elapsed < 1.0


# --- downloads -----------------------------------------------------------------------------


@pytest.fixture
def files_client(make_app: AppFactory, tmp_path: Path) -> FlaskClient:
    """The sample app plus a download and a stream route over ``tmp_path/public``."""
    public = tmp_path / "public"
    public.mkdir()
    (public / "report.txt").write_text("public report")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    os.symlink(tmp_path / "secret.txt", public / "link.txt")
    os.symlink(tmp_path, public / "up")
    app = make_app()
    app.add_url_rule("/files/<path:name>", "files", lambda name: send_download(public, name))
    app.add_url_rule("/stream/<path:name>", "stream", lambda name: stream_file(public, name))
    return app.test_client()


@pytest.mark.parametrize("prefix", ["/files/", "/stream/"])
@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "%2e%2e/secret.txt",
        "%2e%2e%2fsecret.txt",
        "..%5csecret.txt",
        "%252e%252e%252fsecret.txt",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "link.txt",
        "up/secret.txt",
        "report.txt%00.png",
        "./../secret.txt",
    ],
)
def test_download_traversal_is_refused(files_client: FlaskClient, prefix: str, name: str) -> None:
    """``..`` (plain, encoded, double-encoded), absolute paths, NUL and symlinks leak nothing."""
    response = files_client.get(prefix + name)
    if response.status_code == 308:  # werkzeug merges "//": the redirect stays under the prefix
        assert urlsplit(response.headers["Location"]).path.startswith(prefix)
        response = files_client.get(response.headers["Location"])
    assert response.status_code in (400, 404), response.status_code
    assert b"TOP SECRET" not in response.get_data()
    assert b"root:" not in response.get_data()
    _envelope(response, response.status_code)


def test_download_inside_still_works(files_client: FlaskClient) -> None:
    """The control: a file inside the directory downloads."""
    response = files_client.get("/files/report.txt")
    assert response.status_code == 200
    assert response.get_data() == b"public report"
    response.close()


# --- bodies, CORS --------------------------------------------------------------------------


def test_oversized_body_is_a_413_envelope(client: FlaskClient) -> None:
    """A body past the default 16 MiB limit is refused with the envelope before parsing."""
    body = b'{"title": "' + b"a" * (16 * 1024 * 1024) + b'", "author": "a"}'
    response = client.post(BOOKS, data=body, content_type="application/json")
    _envelope(response, 413)
    assert client.get(BOOKS).get_json()["total"] == 0


def test_cors_default_never_allows_credentials(client: FlaskClient) -> None:
    """Default CORS: ``*`` without credentials, never the caller's origin echoed with them."""
    response = client.get(BOOKS, headers={"Origin": "https://evil.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_with_credentials_reflects_only_listed_origins(make_app: AppFactory) -> None:
    """With credentials on, only listed origins are echoed; others get no CORS headers."""
    client = make_app(
        RAINBOND_CORS_ORIGINS="https://app.example", RAINBOND_CORS_CREDENTIALS=True
    ).test_client()
    good = client.get(BOOKS, headers={"Origin": "https://app.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert good.headers["Access-Control-Allow-Credentials"] == "true"
    for origin in ("https://evil.example", "https://app.example.evil.example", "null"):
        bad = client.options(
            BOOKS, headers={"Origin": origin, "Access-Control-Request-Method": "DELETE"}
        )
        assert "Access-Control-Allow-Origin" not in bad.headers, origin
        assert "Access-Control-Allow-Credentials" not in bad.headers, origin


# --- tokens and sessions -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(header: dict[str, Any], payload: dict[str, Any], key: bytes, digest: Any) -> str:
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing}.{_b64(hmac.new(key, signing.encode(), digest).digest())}"


@pytest.fixture
def valid_token(auth_center: AuthCenter) -> tuple[str, str, str]:
    """A full-permission token and its uid and user name."""
    role, user = unique_name(), unique_name()
    auth_center.add_role(role, [1, 2, 4, 8])
    uid = auth_center.add_user([role])
    return auth_center.login(uid, user), uid, user


def test_valid_token_is_the_control(
    secured: FlaskClient, valid_token: tuple[str, str, str]
) -> None:
    """The control: the real token reads the books."""
    assert secured.get(BOOKS, headers={"token": valid_token[0]}).status_code == 200


def test_tampered_and_alg_confused_tokens_are_401(
    secured: FlaskClient, valid_token: tuple[str, str, str]
) -> None:
    """Tampered payload, alg none, HS256 with the secret, RS256 header, stripped signature: 401."""
    token, uid, user = valid_token
    head, payload, signature = token.split(".")
    now = int(time.time())
    claims = {"id": f"{uid}--{user}--x"}
    other_user = _b64(json.dumps({"id": f"{uid}--admin--x"}).encode())
    secret = SECRET.encode()
    forged = [
        f"{head}.{other_user}.{signature}",
        f"{_b64(json.dumps({'alg': 'none', 'exp': now + 60}).encode())}.{payload}.",
        f"{_b64(json.dumps({'alg': 'none', 'exp': now + 60}).encode())}.{payload}",
        _sign({"alg": "HS256", "exp": now + 60}, claims, secret, hashlib.sha256),
        _sign({"alg": "RS256", "exp": now + 60}, claims, secret, hashlib.sha256),
        _sign({"alg": "HS512", "exp": now + 60}, claims, b"guessed", hashlib.sha512),
        _sign({"alg": "HS512", "exp": now - 10}, claims, secret, hashlib.sha512),
        _sign({"alg": "HS512"}, claims, secret, hashlib.sha512),
        f"{head}.{payload}.",
        f"{head}.{payload}.{signature[:-4]}AAAA",
    ]
    for candidate in forged:
        _envelope(secured.get(BOOKS, headers={"token": candidate}), 401)


def test_forged_session_cookie_grants_nothing(secured: FlaskClient) -> None:
    """A session cookie claiming a user and permissions (signed with the auth secret) is ignored."""
    app = secured.application
    for key in (SECRET, "dev", "secret"):
        app.secret_key = key
        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        assert serializer is not None
        cookie = serializer.dumps(
            {
                "token_id": "65f000000000000000000001",
                "user_name": "admin",
                "auth_books": {"permission_list": [1, 2, 4, 8], "is_all_data": True},
            }
        )
        secured.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), cookie)
        _envelope(secured.get(BOOKS), 401)
        _envelope(secured.post(DEMO, json={"title": "t", "author": "a"}), 401)
