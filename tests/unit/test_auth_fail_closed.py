"""Auth configuration fails closed: incomplete or misspelt sets stop start-up."""

from __future__ import annotations

import pytest

from rainbond_kit import ConfigurationError
from rainbond_kit.auth.settings import REQUIRED_AUTH_VARIABLES, auth_from_env

COMPLETE = {
    "SECRET_KEY": "s3cret",
    "REDIS_DB_PERMISSION": "3",
    "MONGODB_DB_NAME": "auth",
    "MONGODB_PERMISSION": "sys_permission",
    "MONGODB_PERMISSIONSET": "sys_permissionset",
    "MONGODB_ROLE": "sys_role",
    "MONGODB_USER": "sys_user",
}


def test_complete_set_turns_auth_on() -> None:
    """Control: the full set gives settings naming its collections."""
    auth = auth_from_env(COMPLETE)
    assert auth is not None
    assert auth.permission_collection == "sys_permission"
    assert auth.tokens.redis_db == 3


@pytest.mark.parametrize("missing", [n for n in REQUIRED_AUTH_VARIABLES if n != "SECRET_KEY"])
def test_one_variable_missing_is_named(missing: str) -> None:
    """Any one required variable left out is a start-up error naming it."""
    env = {k: v for k, v in COMPLETE.items() if k != missing}
    with pytest.raises(ConfigurationError) as info:
        auth_from_env(env)
    message = str(info.value)
    assert message.startswith("auth is incomplete: ")
    assert f"but {missing} not" in message


def test_misspelt_variable_fails_closed() -> None:
    """MONGODB_PERMISSIONS for MONGODB_PERMISSION never starts the app without auth."""
    env = {k: v for k, v in COMPLETE.items() if k != "MONGODB_PERMISSION"}
    env["MONGODB_PERMISSIONS"] = "sys_permission"
    with pytest.raises(ConfigurationError) as info:
        auth_from_env(env)
    assert str(info.value).startswith(
        "MONGODB_PERMISSIONS is not an auth variable: did you mean MONGODB_PERMISSION?"
    )
    with pytest.raises(ConfigurationError, match="did you mean SECRET_KEY"):
        auth_from_env({"secret_key": "x"})


def test_auth_off_is_explicit_where_demanded() -> None:
    """No variable: off in development, an error when explicit off is demanded."""
    assert auth_from_env({}) is None
    with pytest.raises(ConfigurationError, match=r"or RAINBOND_AUTH=off$"):
        auth_from_env({}, explicit_off=True)
    assert auth_from_env({"RAINBOND_AUTH": "off"}, explicit_off=True) is None
    assert auth_from_env({**COMPLETE, "RAINBOND_AUTH": "OFF"}) is None


def test_auth_switch_values() -> None:
    """RAINBOND_AUTH=on with nothing set names every missing variable; other values refused."""
    with pytest.raises(ConfigurationError) as info:
        auth_from_env({"RAINBOND_AUTH": "on"})
    assert "RAINBOND_AUTH=on set but SECRET_KEY, REDIS_DB_PERMISSION" in str(info.value)
    with pytest.raises(ConfigurationError, match=r"RAINBOND_AUTH must be 'on' or 'off', got 'no'"):
        auth_from_env({"RAINBOND_AUTH": "no"})


def test_unrelated_variables_are_not_near_misses() -> None:
    """Control: MongoDB login and Flask variables do not look like auth variables."""
    env = {
        "MONGODB_USERNAME": "u",
        "MONGODB_PASSWORD": "p",
        "FLASK_SECRET_KEY": "k",
        "REDIS_DB": "1",
    }
    assert auth_from_env(env) is None
