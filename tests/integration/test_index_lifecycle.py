"""Declared indexes off the request path, on a real MongoDB wire server (issue 14).

Before: indexes were created in a before-request hook, retried on every request while
MongoDB was down (probes slow), and a conflicting index or violating data turned every route
of the resource into an error. Now a background builder builds them; conflicts are one error
naming index and collection, recorded on the app's board and reported by the CLI; routes
keep answering.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from flask import Flask
from flask_smorest import Blueprint

import rainbond_kit.data.index_builder as index_builder
import rainbond_kit.health as health
from rainbond_kit import Settings, get_api, index_board, unique_live, wait_for_indexes
from rainbond_kit.resource import ResourceView
from tests.conftest import KitAppFactory

Client = pymongo.MongoClient[dict[str, Any]]
EMAIL_UNIQUE = pymongo.IndexModel([("email", 1)], unique=True, name="email_unique")


class UserSchema(ma.Schema):
    email = ma.fields.String(required=True)
    name = ma.fields.String()


class NoteSchema(ma.Schema):
    text = ma.fields.String(required=True)


class IsbnSchema(ma.Schema):
    isbn = ma.fields.String(required=True)


class Users(ResourceView):
    COLLECTION = "users"
    SCHEMA = UserSchema
    INDEXES = (EMAIL_UNIQUE,)


class Notes(ResourceView):
    COLLECTION = "notes"
    SCHEMA = NoteSchema


class Editions(ResourceView):
    COLLECTION = "editions"
    SCHEMA = IsbnSchema
    INDEXES = (unique_live("isbn"),)


def _app(make_kit_app: KitAppFactory, env: dict[str, str] | Settings, *views: type[ResourceView]) -> Flask:  # fmt: skip
    app = make_kit_app(env)
    for view in views:
        blp = Blueprint(view.COLLECTION, __name__, url_prefix=f"/{view.COLLECTION}")
        view.register(blp)
        get_api(app).register_blueprint(blp)
    return app


def _index_names(mongo_client: Client, db: str, collection: str) -> list[str]:
    return sorted(mongo_client[db][collection].index_information())


def test_changed_keys_are_one_error_and_routes_keep_answering(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], mongo_client: Client,
    mongo_db_name: str, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """An index named email_unique already exists with other keys: the builder records a
    conflict and logs one error naming index and collection; every route still answers."""
    mongo_client[mongo_db_name]["users"].create_index([("name", 1)], name="email_unique")
    app = _app(make_kit_app, rainbond_env, Users, Notes)
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="rainbond_kit.indexes"):
        assert client.get("/users").status_code == 200
        assert wait_for_indexes(app, timeout=60)
    [entry] = index_board(app).entries()
    assert (entry.collection, entry.name, entry.status) == ("users", "email_unique", "conflict")
    assert entry.detail.startswith("an index of that name exists with other keys or options")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("index email_unique (email 1) on users not built (conflict): ")
    assert client.post("/users", json={"email": "a@x", "name": "a"}).status_code == 201
    assert client.post("/notes", json={"text": "hi"}).status_code == 201
    assert client.get("/users").get_json()["total"] == 1
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["indexes"] == {"conflict": 1}
    assert client.get("/healthz").status_code == 200


def test_violating_data_is_a_conflict_not_a_409_on_every_route(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], mongo_client: Client,
    mongo_db_name: str,
) -> None:  # fmt: skip
    """Two stored users share an email: the unique index cannot be built (duplicate key);
    that is a recorded conflict, and lists, reads and other writes answer normally."""
    mongo_client[mongo_db_name]["users"].insert_many(
        [{"email": "same@x", "name": "a"}, {"email": "same@x", "name": "b"}]
    )
    app = _app(make_kit_app, rainbond_env, Users)
    client = app.test_client()
    assert client.get("/users").get_json()["total"] == 2
    assert wait_for_indexes(app, timeout=60)
    [entry] = index_board(app).entries()
    assert entry.status == "conflict"
    assert entry.detail.startswith("existing documents violate it: ")
    assert client.get("/users").status_code == 200
    assert client.post("/users", json={"email": "other@x"}).status_code == 201
    assert _index_names(mongo_client, mongo_db_name, "users") == ["_id_"]


def test_unique_live_ignores_soft_deleted_documents(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str]
) -> None:
    """unique_live("isbn"): two live documents with one ISBN are a 409; once one is
    (soft-)deleted the ISBN can be created again, repeatedly."""
    app = _app(make_kit_app, rainbond_env, Editions)
    client = app.test_client()
    assert client.get("/editions").status_code == 200
    assert wait_for_indexes(app, timeout=60)
    assert index_board(app).counts() == {"built": 1}
    first = client.post("/editions", json={"isbn": "978-1"})
    assert first.status_code == 201
    duplicate = client.post("/editions", json={"isbn": "978-1"})
    assert duplicate.status_code == 409
    assert duplicate.get_json()["message"] == "a document with the same isbn exists"
    assert client.post("/editions", json={"isbn": "978-2"}).status_code == 201
    assert client.delete(f"/editions/{first.get_json()['id']}").status_code == 204
    again = client.post("/editions", json={"isbn": "978-1"})
    assert again.status_code == 201
    assert client.delete(f"/editions/{again.get_json()['id']}").status_code == 204
    assert client.post("/editions", json={"isbn": "978-1"}).status_code == 201
    assert client.post("/editions", json={"isbn": "978-1"}).status_code == 409
    assert client.get("/editions").get_json()["total"] == 2


def test_probes_with_mongodb_down_do_no_index_work(
    make_kit_app: KitAppFactory, offline_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MongoDB unreachable and INDEXES declared: /healthz is 200 without any store or index
    call, /readyz a 503 naming mongodb with the indexes pending; index builds happen only on
    the builder thread."""
    calls: list[tuple[str, str]] = []
    real_build, real_check = index_builder.build_pending, health.check_stores

    def build(*args: Any, **kwargs: Any) -> None:
        calls.append(("build", threading.current_thread().name))
        real_build(*args, **kwargs)

    def check() -> dict[str, str]:
        calls.append(("stores", threading.current_thread().name))
        return real_check()

    monkeypatch.setattr(index_builder, "build_pending", build)
    monkeypatch.setattr(health, "check_stores", check)
    app = _app(make_kit_app, offline_settings, Users)
    client = app.test_client()
    here = threading.current_thread().name
    healthz = client.get("/healthz")
    assert healthz.status_code == 200
    assert healthz.get_json() == {"status": "ok"}
    assert [c for c in calls if c[1] == here] == []
    readyz = client.get("/readyz")
    assert readyz.status_code == 503
    body = readyz.get_json()
    assert body["message"] == "unavailable: mongodb, redis"
    assert body["indexes"] == {"pending": 1}
    assert [c for c in calls if c[1] == here] == [("stores", here)]
    assert all(name == "rainbond-kit-indexes" for kind, name in calls if kind == "build")


APP_MODULE = '''
"""An app declaring users.email_unique and a notes resource (no index), read from the env."""
import json, sys
import marshmallow as ma
import pymongo
from flask import Flask
from flask_smorest import Blueprint
from rainbond_kit import RainbondKit, Settings, get_api, index_board, wait_for_indexes
from rainbond_kit.resource import ResourceView

class UserSchema(ma.Schema):
    email = ma.fields.String(required=True)

class Users(ResourceView):
    COLLECTION = "users"
    SCHEMA = UserSchema
    SORT_FIELDS = ("email", "creation_time")
    INDEXES = (pymongo.IndexModel([("email", 1)], unique=True, name="email_unique"),)

app = Flask("idx")
RainbondKit(app, settings=Settings.from_env())
blp = Blueprint("users", __name__, url_prefix="/users")
Users.register(blp)
get_api(app).register_blueprint(blp)

if __name__ == "__main__":  # one app process: first request, then wait for the builder
    sys.stdin.readline()  # both processes start together
    app.test_client().get("/healthz")
    done = wait_for_indexes(app, timeout=120)
    print(json.dumps([done, [[e.name, e.status, e.detail] for e in index_board(app).entries()]]))
'''


@pytest.fixture
def app_folder(tmp_path: Path) -> Path:
    (tmp_path / "idxapp.py").write_text(textwrap.dedent(APP_MODULE))
    (tmp_path / "Procfile").write_text("web: gunicorn idxapp:app --workers 2\n")
    return tmp_path


def _env(rainbond_env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **rainbond_env, "RAINBOND_JSON_LOGS": "0"}


RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(app_folder: Path, rainbond_env: dict[str, str]) -> RunCli:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rainbond_kit.cli", "indexes", *args],
            cwd=app_folder, env=_env(rainbond_env), capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    return run


def test_two_processes_starting_together_build_once(
    app_folder: Path, rainbond_env: dict[str, str], mongo_client: Client, mongo_db_name: str
) -> None:
    """Two app processes released at the same moment both report the index built, with no
    error, and MongoDB holds it once."""
    procs = [
        subprocess.Popen(
            [sys.executable, "idxapp.py"],
            cwd=app_folder,
            env=_env(rainbond_env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for (out, err), proc in zip(outputs, procs, strict=True):
        assert proc.returncode == 0, err
        [result] = [line for line in out.splitlines() if line.startswith("[")]
        assert json.loads(result) == [True, [["email_unique", "built", ""]]]
        assert "ERROR" not in err
    info = mongo_client[mongo_db_name]["users"].index_information()
    assert sorted(info) == ["_id_", "email_unique"]
    assert info["email_unique"]["key"] == [("email", 1)]


def test_cli_builds_then_checks(run_cli: RunCli, mongo_client: Client, mongo_db_name: str) -> None:
    """--check before: the missing index is a problem (exit 1) and the unindexed sort field a
    warning; the build creates it (exit 0); --check after passes with the warning only."""
    before = run_cli("--check")
    assert before.returncode == 1, before.stderr
    assert before.stdout.splitlines() == [
        "missing: index email_unique (email 1) on users",
        "warning: sort by creation_time on users has no index starting with it (sorting scans the collection)",
        "1 declared index(es), problems found",
    ]
    built = run_cli("--app", "idxapp:app")
    assert (built.returncode, built.stdout) == (0, "1 declared index(es), all in place\n")
    assert mongo_client[mongo_db_name]["users"].index_information()["email_unique"]["unique"]
    after = run_cli("--check")
    assert after.returncode == 0, after.stdout
    assert after.stdout.splitlines()[-1] == "1 declared index(es), all in place"


def test_cli_reports_conflicts_with_exit_1(
    run_cli: RunCli, mongo_client: Client, mongo_db_name: str
) -> None:
    """Same name, other keys: --check and the build both exit 1 with one line naming the
    index and the collection; violating data is reported by the build."""
    users = mongo_client[mongo_db_name]["users"]
    users.create_index([("other", 1)], name="email_unique")
    check = run_cli("--check")
    assert check.returncode == 1
    assert check.stdout.splitlines()[0] == (
        "conflict: index email_unique (email 1) on users: an index of that name has keys (other 1)"
    )
    build = run_cli()
    assert build.returncode == 1
    assert build.stdout.splitlines()[0].startswith(
        "conflict: index email_unique (email 1) on users: an index of that name exists with other keys or options"
    )
    users.drop_index("email_unique")
    users.insert_many([{"email": "a"}, {"email": "a"}])
    violated = run_cli()
    assert violated.returncode == 1
    assert violated.stdout.splitlines()[0].startswith(
        "conflict: index email_unique (email 1) on users: existing documents violate it: "
    )


def test_cli_without_an_app_is_a_configuration_error(tmp_path: Path, rainbond_env: dict[str, str]) -> None:  # fmt: skip
    """No --app and no Procfile: one line saying how to name the app, exit 2."""
    result = subprocess.run(
        [sys.executable, "-m", "rainbond_kit.cli", "indexes", "--check"],
        cwd=tmp_path, env=_env(rainbond_env), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "configuration error: name the app with --app module:app (no Procfile"
        " `web: gunicorn module:app` found)\n"
    )
