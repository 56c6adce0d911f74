"""``rainbond_kit.compat.verify_token``: the seed's calls, without its holes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify, session

from rainbond_kit.compat.verify_token import VerifyToken, filter_verify, set_token_session
from rainbond_kit.errors import ConfigurationError, ForbiddenError
from tests.conftest import KitAppFactory
from tests.integration.auth_support import (  # noqa: F401 - fixtures
    CENTER,
    PERM,
    AuthCenter,
    auth_center_fixture,
)

PER_DEFAULTS = [
    {"session_key": "auth_books", "center_name": CENTER, "permission_name": PERM, "status": [0, 1, 2]},
]  # fmt: skip
ADMIN_SESSION = {
    "token_id": "x",
    "user_name": "administrator",
    "real_name": "root",
    "auth_books": {"permission_list": [0, 1, 2, 4, 8, 16], "is_all_data": True},
    "group_list": ["all"],
}


@pytest.fixture
def auth_environ(auth_center: AuthCenter, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The auth-center variables exported to ``os.environ`` (the compat API reads them there)."""
    for name, value in auth_center.env.items():
        monkeypatch.setenv(name, value)
    return auth_center.env


@pytest.fixture
def compat_app(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], auth_environ: dict[str, str]
) -> Flask:
    app = make_kit_app(rainbond_env)
    verify = VerifyToken(per_defaults=PER_DEFAULTS)
    set_token_session(app, verify=verify, per_defaults=PER_DEFAULTS, whitelist=["/public/<id>"])

    @app.get("/private")
    def private() -> Any:
        return jsonify(dict(session))

    @app.get("/public/<id>")
    def public(id: str) -> Any:
        return jsonify(dict(session))

    return app


def test_session_filled_as_seed_documents(compat_app: Flask, auth_center: AuthCenter) -> None:
    """The session carries token_id, user_name, real_name, <session_key> and group_list."""
    auth_center.add_role("viewer", [1, 0], all_data=True)
    uid = auth_center.add_user(["viewer"], ["g1", "g2"])
    token = auth_center.login(uid, "jane", "简")
    response = compat_app.test_client().get("/private", headers={"token": token})
    assert response.get_json() == {
        "token_id": uid,
        "user_name": "jane",
        "real_name": "简",
        "auth_books": {"permission_list": [0, 1], "is_all_data": True},
        "group_list": ["g1", "g2"],
    }


def test_registration_at_start(compat_app: Flask, auth_center: AuthCenter) -> None:
    """set_token_session registers per_defaults synchronously: 1 permission, 3 statuses."""
    assert auth_center.db.permission.count_documents({}) == 1
    assert sorted(d["permission_status"] for d in auth_center.db.permission_set.find()) == [0, 1, 2]


def test_whitelist_needs_no_token(compat_app: Flask) -> None:
    """``/public/<id>`` is whitelisted; ``/public`` and ``/private`` are not."""
    client = compat_app.test_client()
    assert client.get("/public/42").status_code == 200
    assert client.get("/private").status_code == 401


def _forge_cookie(app: Flask, data: dict[str, Any]) -> str:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return str(serializer.dumps(data))


def test_forged_cookie_grants_nothing(compat_app: Flask, auth_center: AuthCenter) -> None:
    """A cookie signed with the app's own secret, claiming admin rights, is ignored everywhere."""
    client = compat_app.test_client()
    client.set_cookie("session", _forge_cookie(compat_app, ADMIN_SESSION))
    assert client.get("/private").status_code == 401  # no token: the cookie is no credential
    assert client.get("/public/1").get_json() == {}  # whitelisted: cleared, not trusted
    auth_center.add_role("none", [0])
    uid = auth_center.add_user(["none"], [])
    client.set_cookie("session", _forge_cookie(compat_app, ADMIN_SESSION))
    body = client.get("/private", headers={"token": auth_center.login(uid, "kim")}).get_json()
    assert body["user_name"] == "kim"
    assert body["auth_books"] == {"permission_list": [0], "is_all_data": True}
    assert body["group_list"] == []


def test_secret_from_configuration(compat_app: Flask, auth_center: AuthCenter) -> None:
    """The Flask secret is the configured one (here SECRET_KEY), not a constant."""
    assert compat_app.secret_key == auth_center.env["SECRET_KEY"]


@pytest.mark.usefixtures("auth_environ")
def test_refuses_to_start_without_secret(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without SECRET_KEY the app does not start: ConfigurationError naming the variable."""
    monkeypatch.delenv("SECRET_KEY")
    app = make_kit_app(rainbond_env)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        set_token_session(app, VerifyToken(), [])


def test_filter_verify(compat_app: Flask) -> None:
    """filter_verify: admin exact match, group filter, creator filter, 403 without group."""
    with compat_app.app_context():
        assert filter_verify([], True, "administrator") == {}
        assert filter_verify([], False, "administrator", "owner") == {"owner": "administrator"}
        assert filter_verify(["g"], True, "bob") == {"group_list": {"$elemMatch": {"$in": ["g"]}}}
        with pytest.raises(ForbiddenError):
            filter_verify([], True, "admin")
