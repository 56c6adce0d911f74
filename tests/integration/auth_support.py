"""Shared arrangement for the auth integration tests: an auth center in real Redis + MongoDB."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pymongo
import pytest
import redis
from bson import ObjectId
from flask import Flask, jsonify
from flask.views import MethodView

from rainbond_kit.auth import (
    AuthSettings,
    current_identity,
    current_row_filter,
    init_auth,
    login_required,
    mint_token,
    permission_required,
)
from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.embedded import RedisProcess
from rainbond_kit.settings import RedisSettings
from tests.conftest import KitAppFactory

SECRET = "auth-center-secret-" + "k" * 48
REDIS_DB = 3
CENTER, PERM = "图书中心", "图书管理"


def auth_env(mongo_db_name: str, **extra: str) -> dict[str, str]:
    """The auth-center variables, pointing at this test's database."""
    return {
        "SECRET_KEY": SECRET,
        "REDIS_DB_PERMISSION": str(REDIS_DB),
        "MONGODB_DB_NAME": mongo_db_name,
        "MONGODB_PERMISSION": "permission",
        "MONGODB_PERMISSIONSET": "permission_set",
        "MONGODB_ROLE": "role",
        "MONGODB_USER": "user",
        "ADMIN_USER": "administrator",
        **extra,
    }


class Books(MethodView):
    decorators: ClassVar[list[Any]] = [permission_required(CENTER, PERM)]

    def get(self) -> Any:
        return jsonify(user=current_identity().user_name, filter=current_row_filter(CENTER, PERM))

    def post(self) -> Any:
        return jsonify(created=True), 201

    def delete(self) -> Any:
        return "", 204


def add_routes(app: Flask) -> None:
    """``/me`` (login only), ``/books`` (permission by method), ``/export`` (download)."""

    @app.get("/me")
    @login_required
    def me() -> Any:
        identity = current_identity()
        return jsonify(uid=identity.uid, user=identity.user_name, groups=list(identity.groups))

    @app.get("/export")
    @permission_required(CENTER, PERM, download=True)
    def export() -> Any:
        return jsonify(exported=True)

    app.add_url_rule("/books", view_func=Books.as_view("books"))


@dataclass
class AuthCenter:
    """The auth center's stores, as a test arranges them."""

    db: pymongo.database.Database[dict[str, Any]]
    sessions: redis.Redis
    env: dict[str, str]
    users: list[str] = field(default_factory=list)

    def add_role(
        self, role: str, codes: list[int], *, all_data: bool = True, center: str = CENTER
    ) -> None:
        self.db.role.insert_one(
            {
                "role_name": role,
                "center_name": center,
                "permission_name": PERM,
                "permission_status": codes,
                "is_all_data": all_data,
            }
        )

    def add_user(self, roles: list[str], groups: list[str] | None = None) -> str:
        uid = str(ObjectId())
        self.db.user.insert_one(
            {"_id": ObjectId(uid), "role_name": roles, "group_name": groups or []}
        )
        self.users.append(uid)
        return uid

    def login(self, uid: str, user: str, real: str = "测试用户", **mint: Any) -> str:
        """Do what the auth center does at login: store the session, hand out a token."""
        self.sessions.set(uid, f"{uid}--{user}--{real}")
        return mint_token(SECRET, uid, user, real, **mint)


@pytest.fixture(name="auth_center")
def auth_center_fixture(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str, redis_url: str
) -> Iterator[AuthCenter]:
    sessions = redis.Redis.from_url(
        redis_settings_for_db(RedisSettings(url=redis_url), REDIS_DB).url, decode_responses=True
    )
    center = AuthCenter(mongo_client[mongo_db_name], sessions, auth_env(mongo_db_name))
    yield center
    if center.users:
        sessions.delete(*center.users)
    sessions.close()


def make_auth_app(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], env: dict[str, str], **config: Any
) -> Flask:
    """A kit app with auth on (settings from ``env``) and the test routes."""
    app = make_kit_app(rainbond_env, **config)
    init_auth(app, AuthSettings.from_env(env))
    add_routes(app)
    return app


@pytest.fixture(name="auth_app")
def auth_app_fixture(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], auth_center: AuthCenter
) -> Flask:
    return make_auth_app(make_kit_app, rainbond_env, auth_center.env)


def unique_name() -> str:
    return f"u{uuid.uuid4().hex[:8]}"


@pytest.fixture(name="own_redis")
def own_redis_fixture() -> Iterator[RedisProcess]:
    """A Redis server of this test's own, which the test may stop."""
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def run_together(*targets: Callable[[], None]) -> None:
    """Run ``targets`` in threads released together by a barrier; wait for all."""
    barrier = threading.Barrier(len(targets))

    def gated(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            target()

        return run

    threads = [threading.Thread(target=gated(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
