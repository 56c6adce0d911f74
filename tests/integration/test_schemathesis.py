"""Schema fuzzing: schemathesis drives every operation of the sample app's own OpenAPI document.

Checks on every response: no 5xx, status code / content type / body / documented headers
conform to the document (errors included: the envelope), and no stack trace, server path or driver message in a body.
``RAINBOND_FUZZ_EXAMPLES`` sets the examples per operation (default 30; ``nox -s fuzz`` runs 500).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_app import create_app
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rainbond_kit import RainbondKit, Settings, wait_for_indexes
from rainbond_kit.auth import AuthSettings
from tests.integration.auth_support import (  # noqa: F401 - fixture
    AuthCenter,
    auth_center_fixture,
    unique_name,
)

EXAMPLES = int(os.environ.get("RAINBOND_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
#: Text that must never reach a client: traces, server paths, driver messages.
LEAKS = (
    "Traceback",
    'File "',
    str(Path(__file__).resolve().parents[2]),
    "site-packages",
    "/usr/lib",
    sys.prefix,
    "E11000",
    "pymongo",
    "ServerSelectionTimeout",
)


def no_leak(ctx: Any, response: Any, case: Any) -> bool | None:
    """Custom check: the body names no stack frame, server path or driver message."""
    body = response.text if hasattr(response, "text") else response.content.decode()
    found = [leak for leak in LEAKS if leak and leak in body]
    if found:
        raise AssertionError(f"response leaks {found}: {body[:300]}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    no_leak,
]


@pytest.fixture
def open_app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = create_app(rainbond_settings, {"TESTING": False})
    assert wait_for_indexes(app)  # no builder thread beside hypothesis (see conftest.app)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def secured_app(rainbond_settings: Settings, auth_center: AuthCenter) -> Iterator[Flask]:
    app = create_app(
        rainbond_settings, {"TESTING": False}, auth=AuthSettings.from_env(auth_center.env)
    )
    assert wait_for_indexes(app)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def token(auth_center: AuthCenter) -> str:
    """A token whose role holds every books permission code."""
    role = unique_name()
    auth_center.add_role(role, [1, 2, 4, 8])
    return auth_center.login(auth_center.add_user([role]), unique_name())


def fuzz(app: Flask, *, headers: dict[str, str] | None = None, examples: int = EXAMPLES) -> int:
    """Fuzz every operation of ``app``'s document (valid and invalid inputs); return the count.

    Failures of every operation are collected and reported together.
    """
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(FUZZ, max_examples=examples)
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # reported below with the operation's name
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    return calls


def test_open_app_conforms(open_app: Flask) -> None:
    """Without auth: every generated request gets a documented, leak-free, non-5xx answer."""
    calls = fuzz(open_app)
    print(f"open app: {calls} fuzzed requests")


def test_secured_app_with_token_conforms(secured_app: Flask, token: str) -> None:
    """With auth and a full-permission token: the same guarantees hold."""
    calls = fuzz(secured_app, headers={"token": token})
    print(f"secured app: {calls} fuzzed requests")


def test_secured_app_without_token_is_401(secured_app: Flask) -> None:
    """With auth and no token: every operation answers a documented 401 envelope."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", secured_app)
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(FUZZ, max_examples=min(EXAMPLES, 5))
        def run(case: Any) -> None:
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "token"}
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code == 401, response.text
            assert response.json()["code"] == 401

        run()
        seen.append(operation.label)
    # books 8 (batch included), reads 1, demo 4, files 5, customers 7, products 8 (reserve),
    # orders 11 (4 actions)
    assert len(seen) == 44, seen


class _Body:
    def __init__(self, text: str) -> None:
        self.text = text


@pytest.mark.parametrize(
    "body",
    [
        'Traceback (most recent call last):\n  File "app.py"',
        "E11000 duplicate key error collection: db.books",
        "ServerSelectionTimeoutError: 127.0.0.1:27017",
    ],
)
def test_leak_check_catches_leaks(body: str) -> None:
    """The custom check fails a body holding a trace or a driver message."""
    with pytest.raises(AssertionError, match="leaks"):
        no_leak(None, _Body(body), None)
