"""Settings parsing from the variables Rainbond injects."""

from __future__ import annotations

import pytest

from rainbond_kit import ConfigurationError, Settings
from rainbond_kit.settings import MongoSettings, RedisSettings, redact_url


def test_nothing_set_is_embedded_default() -> None:
    """With no Mongo variable the settings say 'embedded' and use localhost defaults."""
    s = Settings.from_env({})
    assert s.mongo.embedded is True
    assert s.mongo.uri == "mongodb://127.0.0.1:27017/"
    assert s.mongo.database == "rainbond"
    assert s.redis.configured is False
    assert s.redis.url == "redis://127.0.0.1:6379/0"
    assert s.port == 5000


def test_rainbond_host_port_and_seed_user_alias() -> None:
    """MONGODB_NAME is the seed's name for the user; the password is URL-quoted."""
    s = MongoSettings.from_env(
        {
            "MONGODB_HOST": "mongo-27017",
            "MONGODB_PORT": "27018",
            "MONGODB_NAME": "user1",
            "MONGODB_PASSWORD": "p@ss:w/rd",
            "MONGODB_AUTH_SOURCE": "admin",
            "MONGODB_DB": "books",
        }
    )
    assert s.uri == "mongodb://user1:p%40ss%3Aw%2Frd@mongo-27017:27018/?authSource=admin"
    assert s.database == "books"
    assert s.embedded is False
    assert "p%40ss" not in s.redacted_uri
    assert "***" in s.redacted_uri


@pytest.mark.parametrize(
    ("user_var", "pass_var"),
    [("MONGODB_USER", "MONGODB_PASS"), ("MONGODB_USERNAME", "MONGODB_PASSWORD")],
)
def test_mongo_aliases(user_var: str, pass_var: str) -> None:
    """The *_USER/*_USERNAME and *_PASS aliases are accepted."""
    s = MongoSettings.from_env({"MONGODB_HOST": "h", user_var: "u", pass_var: "p"})
    assert s.uri == "mongodb://u:p@h:27017/"


def test_uri_wins_and_options_pass_through() -> None:
    """MONGODB_URI beats the parts; its options and database are kept untouched."""
    uri = "mongodb://a:b@m1:1,m2:2/shop?replicaSet=rs0&readPreference=secondaryPreferred&w=majority"
    s = MongoSettings.from_env({"MONGODB_URI": uri, "MONGODB_HOST": "ignored"})
    assert s.uri == uri
    assert s.database == "shop"
    assert MongoSettings.from_env({"MONGODB_URI": uri, "MONGODB_DB": "other"}).database == "other"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        (
            {"MONGODB_HOST": "h", "MONGODB_PORT": "abc"},
            "MONGODB_PORT must be a port number (1-65535), got 'abc'",
        ),
        (
            {"MONGODB_HOST": "h", "MONGODB_PORT": "0"},
            "MONGODB_PORT must be a port number (1-65535), got 0",
        ),
        ({"REDIS_PORT": "70000"}, "REDIS_PORT must be a port number (1-65535), got 70000"),
        ({"PORT": "http"}, "PORT must be a port number"),
        ({"REDIS_DB": "-1"}, "REDIS_DB must be >= 0"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL must be a URL starting with redis://"),
        (
            {"REDIS_URL": "localhost:6379"},
            "REDIS_URL must be a URL starting with redis://, rediss:// or unix://"
            " (e.g. redis://host:6379/0), got 'localhost:6379'",
        ),
        (
            {"MONGODB_HOST": "h", "MONGODB_USER": "u"},
            "MONGODB_USER is set but no password is: set MONGODB_PASSWORD",
        ),
        (
            {"MONGODB_HOST": "h", "MONGODB_PASSWORD": "x"},
            "MONGODB_PASSWORD is set but no user name",
        ),
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    """A malformed value raises ConfigurationError naming the variable and the problem."""
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env)
    assert needle in str(info.value)


def test_bad_uri_error_never_shows_the_password() -> None:
    """A broken MONGODB_URI is reported by variable name without the secret."""
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"MONGODB_URI": "mongodb://user:s3cr3tpw@host:99999/"})
    assert "MONGODB_URI is not a valid MongoDB URI" in str(info.value)
    assert "s3cr3tpw" not in str(info.value)
    with pytest.raises(ConfigurationError, match="MONGODB_URI"):
        Settings.from_env({"MONGODB_URI": "postgres://x"})


def test_redis_parts_and_aliases() -> None:
    """REDIS_HOST/PORT/PASS/DB build the URL; REDIS_URL wins."""
    s = RedisSettings.from_env({"REDIS_HOST": "redis-6379", "REDIS_PASS": "p w", "REDIS_DB": "3"})
    assert s.url == "redis://:p%20w@redis-6379:6379/3"  # redis-py unquotes: + is not a space
    assert s.configured is True
    assert s.redacted_url == "redis://:***@redis-6379:6379/3"
    assert (
        RedisSettings.from_env({"REDIS_URL": "rediss://r:1/2", "REDIS_HOST": "x"}).url
        == "rediss://r:1/2"
    )


def test_settings_are_frozen() -> None:
    """The settings object cannot be changed after start-up."""
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_redact_url_without_password_is_identity() -> None:
    assert redact_url("mongodb://h:1/") == "mongodb://h:1/"


def test_mongodb_user_is_a_collection_name_in_auth_center_deployments() -> None:
    """With the auth-center variables set, MONGODB_USER names the users collection, not a login."""
    env = {"MONGODB_HOST": "h", "MONGODB_USER": "sys_user", "MONGODB_PERMISSION": "sys_permission"}
    assert MongoSettings.from_env(env).uri == "mongodb://h:27017/"
    env["MONGODB_NAME"] = "login"
    env["MONGODB_PASS"] = "pw"
    assert MongoSettings.from_env(env).uri == "mongodb://login:pw@h:27017/"
