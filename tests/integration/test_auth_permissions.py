"""Permissions from the auth center's MongoDB, enforced per HTTP method; no cross-user mixing."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from flask import Flask

from rainbond_kit.auth import AuthSettings, document_token_security, init_auth
from rainbond_kit.auth.container import get_auth_container
from rainbond_kit.auth.registration import register_permissions
from rainbond_kit.extension_state import get_api
from tests.conftest import KitAppFactory
from tests.integration.auth_support import (  # noqa: F401 - fixtures
    CENTER,
    PERM,
    AuthCenter,
    auth_app_fixture,
    auth_center_fixture,
    auth_env,
    make_auth_app,
    run_together,
)


def test_codes_by_method(auth_app: Flask, auth_center: AuthCenter) -> None:
    """Roles union to [1, 2]: GET and POST pass, DELETE and the download (16) get 403."""
    auth_center.add_role("viewer", [1], all_data=True)
    auth_center.add_role("adder", [2], all_data=False)
    uid = auth_center.add_user(["viewer", "adder"], ["g1"])
    headers = {"token": auth_center.login(uid, "erin")}
    client = auth_app.test_client()
    response = client.get("/books", headers=headers)
    assert response.status_code == 200
    # one role lacks is_all_data, so rows are limited to the user's own
    assert response.get_json()["filter"] == {
        "group_list": {"$elemMatch": {"$in": ["g1"]}},
        "creator": "erin",
    }
    assert client.post("/books", headers=headers).status_code == 201
    denied = client.delete("/books", headers=headers)
    assert denied.status_code == 403
    body = denied.get_json()
    assert body["message"] == f"no '{CENTER}/{PERM}' permission for this request"
    assert body["required_codes"] == [8]
    assert client.get("/export", headers=headers).status_code == 403


def test_download_code(auth_app: Flask, auth_center: AuthCenter) -> None:
    """``download=True`` needs code 16 for GET; with it the export passes."""
    auth_center.add_role("exporter", [16])
    uid = auth_center.add_user(["exporter"], ["g1"])
    headers = {"token": auth_center.login(uid, "fred")}
    client = auth_app.test_client()
    assert client.get("/export", headers=headers).status_code == 200
    assert client.get("/books", headers=headers).status_code == 403


def test_admin_is_exact_match(auth_app: Flask, auth_center: AuthCenter) -> None:
    """ADMIN_USER="administrator" does not make "admin" an administrator (no substring test)."""
    auth_center.add_role("viewer", [1], all_data=True)
    client = auth_app.test_client()
    admin = auth_center.add_user(["viewer"])
    response = client.get("/books", headers={"token": auth_center.login(admin, "administrator")})
    assert response.get_json()["filter"] == {}
    impostor = auth_center.add_user(["viewer"])
    response = client.get("/books", headers={"token": auth_center.login(impostor, "admin")})
    assert response.status_code == 403
    assert response.get_json()["message"] == "the user belongs to no group and cannot access data"


def test_two_users_interleaved(auth_app: Flask, auth_center: AuthCenter) -> None:
    """2 threads x 50 requests of two users: each always sees its own identity and rights."""
    auth_center.add_role("viewer", [1], all_data=True)
    auth_center.add_role("limited", [1], all_data=False)
    users = {
        "gina": auth_center.add_user(["viewer"], ["ga"]),
        "hank": auth_center.add_user(["limited"], ["gb"]),
    }
    tokens = {name: auth_center.login(uid, name) for name, uid in users.items()}
    expected = {
        "gina": {"group_list": {"$elemMatch": {"$in": ["ga"]}}},
        "hank": {"group_list": {"$elemMatch": {"$in": ["gb"]}}, "creator": "hank"},
    }
    wrong: list[Any] = []

    def run(name: str) -> None:
        client = auth_app.test_client()
        for _ in range(50):
            body = client.get("/books", headers={"token": tokens[name]}).get_json()
            if body != {"user": name, "filter": expected[name]}:
                wrong.append((name, body))

    run_together(*(functools.partial(run, name) for name in tokens))
    assert wrong == []


def test_role_change_visible_after_cache_window(
    make_kit_app: KitAppFactory,
    rainbond_env: dict[str, str],
    auth_center: AuthCenter,
    mongo_db_name: str,
) -> None:
    """With RAINBOND_AUTH_CACHE_SECONDS=0 a role change applies on the next request."""
    env = auth_env(mongo_db_name, RAINBOND_AUTH_CACHE_SECONDS="0")
    app = make_auth_app(make_kit_app, rainbond_env, env)
    auth_center.add_role("viewer", [1])
    uid = auth_center.add_user(["viewer"], ["g"])
    headers = {"token": auth_center.login(uid, "ivy")}
    client = app.test_client()
    assert client.delete("/books", headers=headers).status_code == 403
    auth_center.db.role.update_one({"role_name": "viewer"}, {"$set": {"permission_status": [8]}})
    assert client.delete("/books", headers=headers).status_code == 204


def test_registration_idempotent_and_concurrent(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], auth_center: AuthCenter
) -> None:
    """Two replicas registering at once, then a restart: exactly one doc per natural key."""
    settings = AuthSettings.from_env(auth_center.env)
    per_defaults = [
        {"session_key": "auth_books", "center_name": CENTER, "permission_name": PERM,
         "status": [0, 1, 2, 4]},
        {"session_key": "auth_users", "center_name": CENTER, "permission_name": "用户",
         "status": [0, 1]},
    ]  # fmt: skip
    apps = [make_kit_app(rainbond_env) for _ in range(2)]
    for app in apps:
        init_auth(app, settings)
    errors: list[BaseException] = []

    def start(app: Flask) -> None:
        try:
            register_permissions(get_auth_container(app).db(), settings, per_defaults)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    run_together(*(functools.partial(start, app) for app in apps))
    assert errors == []
    init_auth(apps[0], settings, per_defaults=per_defaults)  # a restart
    db = auth_center.db
    permissions = list(db.permission.find({}, {"_id": 1, "center_name": 1, "permission_name": 1}))
    assert sorted(p["permission_name"] for p in permissions) == sorted([PERM, "用户"])
    sets = list(db.permission_set.find({}, {"_id": 0, "creation_time": 0}))
    assert len(sets) == 6
    ids = {p["permission_name"]: str(p["_id"]) for p in permissions}
    assert sorted((s["permission_name"], s["permission_status"]) for s in sets) == sorted(
        [(PERM, s) for s in (0, 1, 2, 4)] + [("用户", 0), ("用户", 1)]
    )
    assert [s for s in sets if s["permission_id"] != ids[s["permission_name"]]] == [], ids


def test_token_security_scheme_in_spec(auth_app: Flask) -> None:
    """``document_token_security`` declares the ``token`` header as an apiKey scheme."""
    api = get_api(auth_app)
    document_token_security(api, default=True)
    document_token_security(api)  # idempotent
    spec = auth_app.test_client().get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["token"]["type"] == "apiKey"
    assert spec["components"]["securitySchemes"]["token"]["in"] == "header"
    assert spec["security"] == [{"token": []}]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "REDIS_DB_PERMISSION", "MONGODB_ROLE"])
def test_missing_variable_named(auth_center: AuthCenter, missing: str) -> None:
    """A missing auth variable fails at start-up with a message naming it."""
    from rainbond_kit.errors import ConfigurationError

    env = {k: v for k, v in auth_center.env.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        AuthSettings.from_env(env)
