"""`rainbond-kit doctor` catches planted misconfigurations, each failure with its fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymongo
import pytest

from rainbond_kit.doctor import Check, exit_code, run_checks
from rainbond_kit.embedded import free_port

from .deploy_support import clean_env, component

RESOURCES = """
import marshmallow as ma
import pymongo
from rainbond_kit.resource import ResourceView


class OrderSchema(ma.Schema):
    customer = ma.fields.String(required=True)
    total = ma.fields.Integer()


class Orders(ResourceView):
    COLLECTION = "orders"
    SCHEMA = OrderSchema
    SORT_FIELDS = ("customer", "total")
    INDEXES = (pymongo.IndexModel([("customer", 1)], name="customer"),)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scaffolded component plus a resources module declaring one index."""
    root = component(tmp_path_factory.mktemp("doctor"))
    (root / "resources.py").write_text(RESOURCES)
    return root


def _checks(folder: Path, **env: str) -> dict[str, Check]:
    """In-process checks with no app module (no resources imported into this process)."""
    return {c.name: c for c in run_checks(folder, env, app_module=None)}


def _failed(folder: Path, name: str, **env: str) -> Check:
    check = _checks(folder, **env)[name]
    assert check.status == "fail", check
    assert check.fix, check
    return check


PLANTED = [
    ("port", {"APP_PORT": "8080"}, "APP_PORT set but never read", "rename APP_PORT to _PORT"),
    ("port", {"_PORT": "abc"}, "_PORT must be a port number (1-65535), got 'abc'", "set _PORT"),
    ("port", {"_PORT": "8080", "PORT": "9090"}, "_PORT=8080 and PORT=9090 disagree", "unset PORT"),
    ("mongodb", {}, "no MongoDB is configured", "set MONGODB_URI"),
    (
        "mongodb",
        {"MONGODB_HOST": "db", "MONGODB_USER": "admin"},
        "MONGODB_USER is set but no password is",
        "set MONGODB_URI",
    ),
    ("redis", {"REDIS_URL": "localhost:6379"}, "got 'localhost:6379'", "set REDIS_URL=redis://"),
    ("auth", {"SECRET_KEY": "k"}, "auth is incomplete: SECRET_KEY set but", "RAINBOND_AUTH=off"),
    (
        "auth",
        {"MONGODB_PERMISSIONS": "sys_permission"},
        "did you mean MONGODB_PERMISSION?",
        "RAINBOND_AUTH=off",
    ),
    (
        "trusted proxies",
        {"_SERVICE_NAME": "gr123456"},
        "0 behind Rainbond's gateway",
        "set RAINBOND_TRUSTED_PROXIES=1",
    ),
    (
        "trusted proxies",
        {"RAINBOND_TRUSTED_PROXIES": "yes"},
        "RAINBOND_TRUSTED_PROXIES must be the number of proxies",
        "RAINBOND_TRUSTED_PROXIES=1",
    ),
    ("procfile", {}, "no Procfile in", "web: gunicorn app:app --config gunicorn.conf.py"),
]


@pytest.mark.parametrize(
    ("name", "env", "detail", "fix"),
    PLANTED,
    ids=[f"{p[0]}:{next(iter(p[1]), '-')}" for p in PLANTED],
)
def test_planted_misconfiguration_fails_with_its_fix(
    tmp_path: Path, name: str, env: dict[str, str], detail: str, fix: str
) -> None:
    """Each planted mistake fails its check; the detail says what, the fix says how."""
    check = _failed(tmp_path, name, **env)
    assert detail in check.detail
    assert fix in check.fix


def test_unreachable_servers_fail_with_time_taken(tmp_path: Path) -> None:
    """MongoDB and Redis that do not answer: failures naming the address and the time taken."""
    mongo = f"mongodb://127.0.0.1:{free_port()}/"
    redis = f"redis://127.0.0.1:{free_port()}/0"
    checks = _checks(tmp_path, MONGODB_URI=mongo, MONGODB_TIMEOUT_MS="300", REDIS_URL=redis)
    assert checks["mongodb"].status == "fail"
    assert checks["mongodb"].detail.startswith(f"{mongo} not reachable after ")
    assert checks["redis"].status == "fail"
    assert checks["redis"].detail.startswith(f"{redis} not reachable after ")
    assert "Redis runs" in checks["redis"].fix


def test_procfile_naming_a_missing_module_fails(tmp_path: Path) -> None:
    """A Procfile whose app module does not exist is caught before Rainbond builds it."""
    (tmp_path / "Procfile").write_text("web: gunicorn nowhere:app\n")
    check = _failed(tmp_path, "procfile")
    assert check.detail == "app module 'nowhere' not found"


def test_secrets_are_redacted(tmp_path: Path) -> None:
    """Passwords in URIs and secret variables never appear in the variables line."""
    line = _checks(
        tmp_path,
        MONGODB_URI="mongodb://app:hunter22@db:27017/",
        SECRET_KEY="topsecret",
        REDIS_PASSWORD="redispw",
    )["variables"].detail
    for secret in ("hunter22", "topsecret", "redispw"):
        assert secret not in line
    assert "MONGODB_URI=mongodb://app:***@db:27017/" in line
    assert "SECRET_KEY=***" in line


def _doctor(project: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "rainbond_kit.cli", "doctor", "--json", "--app", "resources"],
        cwd=project, env=clean_env(**env), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return result.returncode, json.loads(result.stdout)


def test_missing_index_then_all_passing(
    project: Path, mongo_uri: str, mongo_db_name: str, redis_url: str, mongo_client: Any
) -> None:
    """A declared index absent from MongoDB fails (exit 1); once created, every check passes."""
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": mongo_db_name,
        "REDIS_URL": redis_url,
        "_PORT": "8080",
        "_SERVICE_NAME": "gr123456",
        "RAINBOND_TRUSTED_PROXIES": "1",
        "RAINBOND_AUTH": "off",
    }
    code, report = _doctor(project, env)
    checks = {c["name"]: c for c in report["checks"]}
    assert (code, report["ok"]) == (1, False)
    assert checks["indexes orders"]["status"] == "fail"
    assert checks["indexes orders"]["detail"] == "declared but missing: customer 1"
    assert "start the app once" in checks["indexes orders"]["fix"]
    assert checks["sort orders"]["status"] == "warn"
    assert checks["sort orders"]["detail"].startswith("no index leads with: total")
    mongo_client[mongo_db_name]["orders"].create_indexes(
        [pymongo.IndexModel([("customer", 1)], name="customer")]
    )
    code, report = _doctor(project, env)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert (code, report["ok"], failed) == (0, True, [])
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["port"]["detail"] == "binds 0.0.0.0:8080 (_PORT)"
    assert checks["mongodb"]["detail"].startswith(f"{mongo_uri} answered in ")
    assert " ms, version " in checks["redis"]["detail"]
    assert checks["procfile"]["detail"] == "web: gunicorn app:app --config gunicorn.conf.py"


def test_exit_code_counts_failures_not_warnings() -> None:
    """Warnings alone exit 0; one failure exits 1."""
    assert exit_code([Check("a", "ok", ""), Check("b", "warn", "", "x")]) == 0
    assert exit_code([Check("a", "ok", ""), Check("b", "fail", "", "x")]) == 1
