"""Shared arrangement for the auth integration tests: an auth center in real Redis + MongoDB."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pymongo
import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask.views import MethodView

from rainbond_kit.auth import (
    AuthSettings,
    current_identity,
    current_row_filter,
    init_auth,
    login_required,
    permission_required,
)
from rainbond_kit.embedded import RedisProcess
from rainbond_kit.testing.auth import REDIS_DB as PUBLIC_REDIS_DB
from rainbond_kit.testing.auth import SECRET as PUBLIC_SECRET
from rainbond_kit.testing.auth import AuthCenter as PublicAuthCenter
from rainbond_kit.testing.auth import auth_env as public_auth_env
from rainbond_kit.testing.auth import open_auth_center
from tests.conftest import KitAppFactory

SECRET = PUBLIC_SECRET
REDIS_DB = PUBLIC_REDIS_DB
CENTER, PERM = "图书中心", "图书管理"


@dataclass
class Caller:
    """One user of the auth center: requests with their token."""

    name: str
    token: str
    client: FlaskClient

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"token": self.token, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)


def auth_env(mongo_db_name: str, **extra: str) -> dict[str, str]:
    """The auth-center variables, pointing at this test's database."""
    return {**public_auth_env(mongo_db_name), **extra}


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


class AuthCenter(PublicAuthCenter):
    """The public test auth center, with the books permission as the default role target."""

    def add_role(
        self,
        role: str,
        codes: Iterable[int],
        *,
        all_data: bool = True,
        center: str = CENTER,
        permission: str = PERM,
    ) -> None:
        super().add_role(role, codes, center=center, permission=permission, all_data=all_data)


@pytest.fixture(name="auth_center")
def auth_center_fixture(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str, redis_url: str
) -> Iterator[AuthCenter]:
    public = open_auth_center(mongo_client, mongo_db_name, redis_url)
    center = AuthCenter(public.db, public.sessions, public.env)
    yield center
    center.close()


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
