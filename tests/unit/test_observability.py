"""Request metrics, ``/metrics`` switches and protection, request ids (no sockets)."""

from __future__ import annotations

import functools
import io
import json
import logging
from typing import Any

import pytest
from flask import Flask, abort, jsonify
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from rainbond_kit import ConfigurationError, RainbondKit, Settings
from rainbond_kit.observability import current_request_id
from rainbond_kit.observability.http import UNMATCHED
from tests.conftest import KitAppFactory


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _app(make_kit_app: KitAppFactory, settings: Settings, **config: Any) -> Flask:
    app = make_kit_app(settings, **config)

    @app.get("/things/<int:number>")
    def thing(number: int) -> Any:
        if number == 0:
            abort(404)
        app.logger.info("serving thing %s", number)
        return jsonify(number=number)

    @app.post("/boom")
    def boom() -> Any:
        raise RuntimeError("unexpected")

    return app


def test_requests_are_counted_by_url_rule(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """Counter and histogram use the URL rule; unmatched paths share one label; 500s count."""
    client = _app(make_kit_app, offline_settings).test_client()
    rule = "/things/<int:number>"
    ok = _value("http_requests_total", method="GET", route=rule, status="200")
    missing = _value("http_requests_total", method="GET", route=rule, status="404")
    unmatched = _value("http_requests_total", method="GET", route=UNMATCHED, status="404")
    failed = _value("http_requests_total", method="POST", route="/boom", status="500")
    timed = _value("http_request_duration_seconds_count", method="GET", route=rule)

    for number in (1, 2, 3):
        assert client.get(f"/things/{number}").status_code == 200
    assert client.get("/things/0").status_code == 404
    assert client.get("/no/such/thing/42").status_code == 404
    assert client.get("/no/such/thing/43").status_code == 404
    assert client.post("/boom").status_code == 500

    assert _value("http_requests_total", method="GET", route=rule, status="200") == ok + 3
    assert _value("http_requests_total", method="GET", route=rule, status="404") == missing + 1
    assert (
        _value("http_requests_total", method="GET", route=UNMATCHED, status="404") == unmatched + 2
    )
    assert _value("http_requests_total", method="POST", route="/boom", status="500") == failed + 1
    assert _value("http_request_duration_seconds_count", method="GET", route=rule) == timed + 4
    assert _value("http_requests_in_flight") == 0


def test_metrics_endpoint_serves_and_is_not_counted(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """/metrics answers the text format with the kit's names and does not count itself."""
    client = _app(make_kit_app, offline_settings).test_client()
    before = _value("http_requests_total", method="GET", route="/metrics", status="200")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    for name in ("http_requests_total", "http_request_duration_seconds_bucket",
                 "http_requests_in_flight", 'rainbond_kit_info{version="0.1.0"} 1.0',
                 "process_cpu_seconds_total"):  # fmt: skip
        assert name in text
    assert _value("http_requests_total", method="GET", route="/metrics", status="200") == before


def test_metrics_switched_off(
    make_kit_app: KitAppFactory, offline_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RAINBOND_METRICS=0 (environment): no /metrics route, nothing counted, request ids stay."""
    monkeypatch.setenv("RAINBOND_METRICS", "0")
    client = _app(make_kit_app, offline_settings).test_client()
    rule = "/things/<int:number>"
    before = _value("http_requests_total", method="GET", route=rule, status="200")
    response = client.get("/things/1")
    assert response.headers["X-Request-ID"]
    assert client.get("/metrics").status_code == 404
    assert _value("http_requests_total", method="GET", route=rule, status="200") == before


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_malformed_switch_is_a_configuration_error(
    make_kit_app: KitAppFactory, offline_settings: Settings, value: str
) -> None:
    """A RAINBOND_METRICS that is not a boolean word names the setting at start-up."""
    with pytest.raises(ConfigurationError, match="RAINBOND_METRICS"):
        make_kit_app(offline_settings, RAINBOND_METRICS=value)


def test_metrics_token(make_kit_app: KitAppFactory, offline_settings: Settings) -> None:
    """With RAINBOND_METRICS_TOKEN only that bearer token scrapes; others get a 401 envelope."""
    client = _app(make_kit_app, offline_settings, RAINBOND_METRICS_TOKEN="s3cret").test_client()
    failures = _value("rainbond_auth_failures_total", reason="metrics_token")
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    for headers in ({}, {"Authorization": "Bearer s3cre"}, {"Authorization": "s3cret"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["code"] == 401
        assert "s3cret" not in refused.get_data(as_text=True)
    assert _value("rainbond_auth_failures_total", reason="metrics_token") == failures + 3


def test_request_id_generated_returned_and_in_envelope(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """Without a trusted proxy a sent X-Request-ID is ignored; the id is new per request."""
    client = _app(make_kit_app, offline_settings).test_client()
    first = client.get("/things/0", headers={"X-Request-ID": "from-the-client"})
    second = client.get("/things/0")
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2
    assert "from-the-client" not in ids
    assert first.get_json()["request_id"] == first.headers["X-Request-ID"]
    body = second.get_json()
    assert {"code", "status", "message", "server_time", "host_name", "host_ip"} < body.keys()
    assert body["code"] == 404


def test_request_id_from_trusted_proxy(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """Behind a trusted proxy a well-formed X-Request-ID is kept; a malformed one is replaced."""
    client = _app(make_kit_app, offline_settings, RAINBOND_TRUSTED_PROXIES=1).test_client()
    kept = client.get("/things/0", headers={"X-Request-ID": "edge-7f3a.1"})
    assert kept.headers["X-Request-ID"] == "edge-7f3a.1"
    assert kept.get_json()["request_id"] == "edge-7f3a.1"
    replaced = client.get("/things/0", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(replaced.headers["X-Request-ID"]) == 32


@functools.cache
def _trusting_app() -> Flask:
    app = Flask("ids")
    app.config.update(RAINBOND_TRUSTED_PROXIES=1, RAINBOND_JSON_LOGS=False)
    RainbondKit(app, settings=Settings.from_env({"MONGODB_URI": "mongodb://127.0.0.1:1/"}))
    return app


@settings(max_examples=60, deadline=None)
@given(sent=st.text(max_size=300))
def test_any_sent_id_gives_a_safe_id(sent: str) -> None:
    """Whatever a trusted proxy sends, the id is printable ASCII of at most 128 characters."""
    app = _trusting_app()
    headers = {"X-Request-ID": sent} if sent.isascii() and not {"\r", "\n"} & set(sent) else {}
    with app.test_request_context(headers=headers):
        found = current_request_id()
        assert 1 <= len(found) <= 128
        assert found.isascii()
        assert found.isprintable()
        assert " " not in found
        assert current_request_id() == found  # stable within the request


def test_request_id_in_every_json_log_line(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """The app's JSON log lines of a request carry its id; lines outside a request do not."""
    app = _app(make_kit_app, offline_settings)
    stream = io.StringIO()
    handler = next(h for h in app.logger.handlers if isinstance(h, logging.StreamHandler))
    old = handler.setStream(stream)
    try:
        response = app.test_client().get("/things/5")
        app.logger.info("outside")
    finally:
        handler.setStream(old)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "serving thing 5"
    assert lines[0]["request_id"] == response.headers["X-Request-ID"]
    assert lines[1]["message"] == "outside"
    assert "request_id" not in lines[1]


def test_dashboard_uses_only_exported_names(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """Every metric the Grafana dashboard queries is one /metrics declares."""
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text()
    )
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {
        re.sub(r"_(bucket|count)$", "", name)
        for expr in exprs
        for name in re.findall(r"\b((?:http|mongodb|redis|rainbond|process)_[a-z_]+)\{", expr)
    }
    assert len(used) >= 12
    declared = set(
        re.findall(
            r"^# TYPE (\S+)",
            _app(make_kit_app, offline_settings).test_client().get("/metrics").text,
            re.M,
        )
    )
    assert used - declared == set()


@pytest.mark.parametrize(
    ("commands", "pool", "expected"),
    [
        (None, None, None),
        ("1", None, ["CommandMetrics"]),
        (None, "1", ["PoolMetrics"]),
        ("yes", "on", ["CommandMetrics", "PoolMetrics"]),
        ("off", "0", None),
    ],
)
def test_pymongo_listeners_are_opt_in(
    make_kit_app: KitAppFactory,
    offline_settings: Settings,
    commands: str | None,
    pool: str | None,
    expected: list[str] | None,
) -> None:
    """By default the client has no pymongo listener (the repository times its operations);
    the command and pool listeners come only when asked for."""
    from rainbond_kit import get_container
    from rainbond_kit.observability.mongo import OperationMetrics

    app = make_kit_app(
        offline_settings,
        RAINBOND_METRICS_MONGO_COMMANDS=commands,
        RAINBOND_METRICS_MONGO_POOL=pool,
    )
    container = get_container(app)
    listeners = container.mongo_client.kwargs.get("event_listeners")
    names = None if listeners is None else [type(listener).__name__ for listener in listeners]
    assert names == expected
    assert isinstance(container.store_observer(), OperationMetrics)
    assert container.repository(collection="books").observer is container.store_observer()


def test_metrics_off_means_no_store_observer(
    make_kit_app: KitAppFactory, offline_settings: Settings
) -> None:
    """With RAINBOND_METRICS=0 repositories get no observer and the client no listener."""
    from rainbond_kit import get_container

    container = get_container(make_kit_app(offline_settings, RAINBOND_METRICS=False))
    assert container.store_observer() is None
    assert container.repository(collection="books").observer is None
    assert "event_listeners" not in container.mongo_client.kwargs


@pytest.mark.parametrize("name", ["RAINBOND_METRICS_MONGO_POOL", "RAINBOND_METRICS_MONGO_COMMANDS"])
def test_malformed_listener_switch(
    make_kit_app: KitAppFactory, offline_settings: Settings, name: str
) -> None:
    """A listener switch that is not a boolean word is named at start-up."""
    with pytest.raises(ConfigurationError, match=name):
        make_kit_app(offline_settings, **{name: "sometimes"})
