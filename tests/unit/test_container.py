"""The container: one client per process, overridable providers, wiring into MethodViews."""

from __future__ import annotations

import sys
from typing import Any

import mongomock
import pymongo
from dependency_injector.wiring import Provide, inject
from flask import Flask
from flask.views import MethodView
from pymongo.database import Database

from rainbond_kit import Container, RainbondKit, Settings, get_container
from rainbond_kit.containers import shutdown


class CountView(MethodView):
    """A user's view with a service injected by the container."""

    @inject
    def get(self, db: Database[dict[str, Any]] = Provide[Container.mongo_db]) -> dict[str, Any]:
        return {"count": db["things"].count_documents({}), "db": db.name}


def test_clients_are_process_singletons(offline_settings: Settings) -> None:
    """Every call returns the same pooled client; the database is the configured default."""
    container = Container(settings=offline_settings)
    assert container.mongo_client() is container.mongo_client()
    assert container.redis_client() is container.redis_client()
    assert container.mongo_db().name == "unit"
    client = container.mongo_client()
    assert client.options.codec_options.tz_aware is True
    assert client.options.server_selection_timeout == 0.2
    shutdown(container)
    assert container.mongo_client() is not client  # closed and dropped


def test_uri_options_beat_defaults() -> None:
    """Options in MONGODB_URI are passed through, not replaced by the library's defaults."""
    settings = Settings.from_env(
        {"MONGODB_URI": "mongodb://h:1/?serverSelectionTimeoutMS=1234&w=majority&appname=mine"}
    )
    client: pymongo.MongoClient[dict[str, Any]] = Container(settings=settings).mongo_client()
    assert client.options.server_selection_timeout == 1.234
    assert client.write_concern.document["w"] == "majority"
    assert client.options.pool_options.metadata["application"]["name"] == "mine"
    client.close()


def test_override_and_wiring_into_method_view(offline_settings: Settings) -> None:
    """A wired MethodView receives the overridden database through @inject/Provide."""
    app = Flask("wired")
    RainbondKit(app, settings=offline_settings, wire=[sys.modules[__name__]])
    app.add_url_rule("/count", view_func=CountView.as_view("count"))
    fake = mongomock.MongoClient()
    fake["unit"]["things"].insert_many([{"a": 1}, {"a": 2}])
    container = get_container(app)
    with container.mongo_client.override(fake):
        container.mongo_db.reset()
        response = app.test_client().get("/count")
    assert response.get_json() == {"count": 2, "db": "unit"}
    container.unwire()


def test_get_container_without_extension_is_a_clear_error() -> None:
    """Using the accessor on an app without the extension says what to do."""
    import pytest

    app = Flask("plain")
    with app.app_context(), pytest.raises(RuntimeError, match=r"RainbondKit\(app\)"):
        get_container()


def test_unconfigured_unreachable_redis_is_disabled(caplog: Any) -> None:
    """No Redis configured: features are disabled with a warning, and nothing is probed."""
    from rainbond_kit.extension_state import get_state
    from rainbond_kit.settings import MongoSettings, RedisSettings

    settings = Settings(
        mongo=MongoSettings(), redis=RedisSettings(url="redis://127.0.0.1:1/0", socket_timeout=0.2)
    )
    app = Flask("noredis")
    RainbondKit(app, settings=settings)
    assert get_state(app).redis_enabled is False
