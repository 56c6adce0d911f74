"""Error envelopes speak the client's language: every status, in zh-CN and en.

The language comes from ``Accept-Language`` (q-values honoured), else ``RAINBOND_LANG``;
only ``message`` and the texts inside ``errors`` change: ``code``, ``status``, field names
and every other key stay the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
import pymongo.errors
import pytest
import redis.exceptions
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from werkzeug.exceptions import PreconditionRequired

from rainbond_kit import RainbondKit, Settings, abort
from rainbond_kit.data.documents import object_id
from rainbond_kit.errors import (
    ConfigurationError,
    ForbiddenError,
    PreconditionFailedError,
    TooManyRequestsError,
    UnauthorizedError,
)
from rainbond_kit.query import FieldSpec, Kind, QuerySpec, parse_list_query
from tests.unit.compat_app import seed_app

ZH_CN_WEIGHTED = "fr;q=1.0, zh-CN;q=0.8, en;q=0.5"
EN_WEIGHTED = "zh-CN;q=0.3, en-US;q=0.9, fr;q=0.1"


class BookSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5))
    pages = ma.fields.Integer(validate=ma.validate.Range(min=1))
    shelf = ma.fields.String(validate=ma.validate.OneOf(["a", "b"]))
    isbn = ma.fields.String(validate=ma.validate.Length(equal=3, error="ISBN 写错了"))


def _routes(app: Flask) -> None:
    blp = Blueprint("books", __name__, url_prefix="/books")

    @blp.route("/", methods=["POST"])
    @blp.arguments(BookSchema)
    def create(body: dict[str, Any]) -> dict[str, Any]:
        return body

    app.extensions["rainbond_kit"].api.register_blueprint(blp)

    @app.post("/json")
    def json_body() -> dict[str, Any]:
        return {"got": request.get_json()}

    @app.get("/id")
    def bad_id() -> None:
        object_id("nope")

    @app.get("/query")
    def query() -> None:
        spec = QuerySpec({"created": FieldSpec(Kind.DATETIME)})
        parse_list_query(request.args, spec)

    @app.get("/401")
    def unauthorized() -> None:
        raise UnauthorizedError("token verification failed")

    @app.get("/403")
    def forbidden() -> None:
        raise ForbiddenError("no 'library/books' permission for this request", extra={"x": 1})

    @app.get("/409")
    def duplicate() -> None:
        raise pymongo.errors.DuplicateKeyError("E11000 duplicate key")

    @app.get("/412")
    def stale() -> None:
        raise PreconditionFailedError("If-Match does not name a current ETag")

    @app.post("/413")
    def upload() -> dict[str, int]:
        return {"size": len(request.get_data())}

    @app.get("/415")
    def media() -> None:
        abort(415)

    @app.get("/428")
    def conditional() -> None:
        raise PreconditionRequired

    @app.get("/429")
    def limited() -> None:
        raise TooManyRequestsError("rate limit exceeded: 5 per 60s", headers={"Retry-After": "7"})

    @app.get("/500")
    def boom() -> None:
        raise RuntimeError("secret")

    @app.get("/503")
    def redis_down() -> None:
        raise redis.exceptions.ConnectionError("Error 111")


@pytest.fixture
def make_client(offline_settings: Settings) -> Iterator[Callable[..., FlaskClient]]:
    apps: list[Flask] = []

    def make(**config: Any) -> FlaskClient:
        app = Flask("i18n")
        app.config.update(TESTING=True, MAX_CONTENT_LENGTH=512, **config)
        RainbondKit(app, settings=offline_settings)
        _routes(app)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        RainbondKit.shutdown(app)


@pytest.fixture
def client(make_client: Callable[..., FlaskClient]) -> FlaskClient:
    return make_client()


BOOK_ERRORS_EN = {
    "json": {
        "title": ["Length must be between 1 and 5."],
        "pages": ["Must be greater than or equal to 1."],
        "shelf": ["Must be one of: a, b."],
        "isbn": ["ISBN 写错了"],
        "extra": ["Unknown field."],
    }
}
BOOK_ERRORS_ZH = {
    "json": {
        "title": ["长度必须在 1 到 5 之间。"],
        "pages": ["必须大于或等于 1。"],
        "shelf": ["必须是以下之一：a, b。"],
        "isbn": ["ISBN 写错了"],  # the schema's own message stays as written
        "extra": ["未知字段。"],
    }
}
BOOK = {"title": "too long", "pages": 0, "shelf": "c", "isbn": "1", "extra": 1}

#: (method, path, request kwargs, code, English message, Chinese message)
CASES: list[tuple[str, str, dict[str, Any], int, str, str]] = [
    (
        "post",
        "/json",
        {"data": "{bad", "content_type": "application/json"},
        400,
        "The browser (or proxy) sent a request that this server could not understand.",
        "浏览器（或代理）发送了服务器无法理解的请求。",
    ),
    (
        "get",
        "/id",
        {},
        400,
        "invalid id: expected 24 hexadecimal characters",
        "无效的 id：应为 24 位十六进制字符",
    ),
    (
        "get",
        "/query?created=yesterday",
        {},
        400,
        "created: invalid date 'yesterday': expected YYYY-MM-DD, an ISO 8601 date-time "
        "or a Unix timestamp (10 or 13 digits)",
        "created：无效的日期 'yesterday'：应为 YYYY-MM-DD、ISO 8601 日期时间或 Unix 时间戳"
        "（10 或 13 位数字）",
    ),
    ("get", "/401", {}, 401, "token verification failed", "令牌验证失败"),
    (
        "get",
        "/403",
        {},
        403,
        "no 'library/books' permission for this request",
        "没有此请求所需的 'library/books' 权限",
    ),
    (
        "get",
        "/nowhere",
        {},
        404,
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again.",
        "服务器上不存在所请求的地址。如果地址是手动输入的，请检查拼写后重试。",
    ),
    (
        "delete",
        "/401",
        {},
        405,
        "The method is not allowed for the requested URL.",
        "所请求的地址不允许使用该请求方法。",
    ),
    (
        "get",
        "/409",
        {},
        409,
        "a document with the same unique key exists",
        "已存在具有相同唯一键的文档",
    ),
    (
        "get",
        "/412",
        {},
        412,
        "If-Match does not name a current ETag",
        "If-Match 与当前 ETag 不匹配",
    ),
    (
        "post",
        "/413",
        {"data": b"x" * 1000},
        413,
        "The data value transmitted exceeds the capacity limit.",
        "发送的数据超过了大小限制。",
    ),
    (
        "get",
        "/415",
        {},
        415,
        "The server does not support the media type transmitted in the request.",
        "服务器不支持请求中发送的媒体类型。",
    ),
    (
        "post",
        "/books/",
        {"json": BOOK},
        422,
        "The request was well-formed but was unable to be followed due to semantic errors.",
        "请求格式正确，但内容有误，无法处理。",
    ),
    (
        "get",
        "/428",
        {},
        428,
        'This request is required to be conditional; try using "If-Match" or '
        '"If-Unmodified-Since".',
        '该请求必须带有前提条件：请使用 "If-Match" 或 "If-Unmodified-Since"。',
    ),
    ("get", "/429", {}, 429, "rate limit exceeded: 5 per 60s", "超出请求频率限制：每 60 秒 5 次"),
    ("get", "/500", {}, 500, "Internal Server Error", "服务器内部错误"),
    ("get", "/503", {}, 503, "redis is unavailable", "redis 不可用"),
]
IDS = [f"{case[3]}-{case[1]}" for case in CASES]


def _call(
    client: FlaskClient, case: tuple[str, str, dict[str, Any], int, str, str], language: str | None
) -> dict[str, Any]:
    method, path, kwargs, code, _, _ = case
    headers = {} if language is None else {"Accept-Language": language}
    response = getattr(client, method)(path, headers=headers, **kwargs)
    assert response.status_code == code, response.get_data(as_text=True)
    assert "Accept-Language" in response.headers["Vary"]
    body: dict[str, Any] = response.get_json()
    body["content_language"] = response.headers["Content-Language"]
    return body


def _without_language(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in body.items()
        # request_id is new on every request, in every language
        if k not in ("message", "errors", "server_time", "request_id", "content_language")
    }


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize(
    ("accept", "chinese"),
    [("zh-CN", True), ("en", False), (ZH_CN_WEIGHTED, True), (EN_WEIGHTED, False), ("fr", False)],
)
def test_every_status_in_the_requested_language(
    client: FlaskClient,
    case: tuple[str, str, dict[str, Any], int, str, str],
    accept: str,
    chinese: bool,
) -> None:
    """The message follows Accept-Language (q-values; an unknown language gets the default, en)."""
    english = _call(client, case, None)
    body = _call(client, case, accept)
    assert body["message"] == (case[5] if chinese else case[4])
    assert body["content_language"] == ("zh-CN" if chinese else "en")
    assert _without_language(body) == _without_language(english)
    assert body.keys() == english.keys()


def test_field_errors_are_localized_but_a_schema_s_own_message_is_not(client: FlaskClient) -> None:
    """marshmallow's built-in messages change language; field names and custom messages do not."""
    english = client.post("/books/", json=BOOK).get_json()
    chinese = client.post("/books/", json=BOOK, headers={"Accept-Language": "zh"}).get_json()
    assert english["errors"] == BOOK_ERRORS_EN
    assert chinese["errors"] == BOOK_ERRORS_ZH
    missing = client.post("/books/", json={}, headers={"Accept-Language": "zh-CN"}).get_json()
    assert missing["errors"] == {"json": {"title": ["缺少必填字段。"]}}


def test_query_errors_keep_the_parameter_name(client: FlaskClient) -> None:
    """A 400 from the query language names the same parameter in both languages."""
    body = client.get("/query?created=x", headers={"Accept-Language": "zh-CN"}).get_json()
    assert list(body["errors"]) == ["created"]
    assert body["errors"]["created"] == [body["message"]]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_rainbond_lang_sets_the_default(
    make_client: Callable[..., FlaskClient], case: tuple[str, str, dict[str, Any], int, str, str]
) -> None:
    """RAINBOND_LANG=zh-CN: Chinese without a header or for an unknown language; en still wins."""
    client = make_client(RAINBOND_LANG="zh-CN")
    assert _call(client, case, None)["message"] == case[5]
    assert _call(client, case, "de-DE, fr;q=0.5")["message"] == case[5]
    assert _call(client, case, "*")["message"] == case[5]
    assert _call(client, case, "en-GB")["message"] == case[4]


def test_application_messages_stay_as_written(client: FlaskClient) -> None:
    """abort() with the application's own text is never rewritten."""
    app = client.application

    @app.get("/own")
    def own() -> None:
        abort(409, "书名已存在 / title taken", field="title")

    body = client.get("/own", headers={"Accept-Language": "zh-CN"}).get_json()
    assert body["message"] == "书名已存在 / title taken"
    assert body["field"] == "title"


@pytest.mark.parametrize(
    ("value", "language"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_CN.UTF-8", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("en_US", "en"),
        ("", "en"),
    ],
)
def test_rainbond_lang_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., FlaskClient],
    value: str,
    language: str,
) -> None:
    """The environment variable is read when app.config does not set the key."""
    monkeypatch.setenv("RAINBOND_LANG", value)
    response = make_client().get("/401")
    assert response.headers["Content-Language"] == language


def test_app_config_beats_the_environment(
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., FlaskClient]
) -> None:
    """app.config["RAINBOND_LANG"] wins over the variable."""
    monkeypatch.setenv("RAINBOND_LANG", "zh-CN")
    response = make_client(RAINBOND_LANG="en").get("/401")
    assert response.get_json()["message"] == "token verification failed"


@pytest.mark.parametrize("value", ["fr", "zh-TW", "chinese", 1])
def test_unknown_rainbond_lang_fails_at_start_up(
    make_client: Callable[..., FlaskClient], value: object
) -> None:
    """A language the kit does not speak is a ConfigurationError naming the key."""
    with pytest.raises(ConfigurationError, match=r"RAINBOND_LANG must be one of en, zh-CN"):
        make_client(RAINBOND_LANG=value)


@pytest.mark.parametrize("accept", ["en", "zh-CN", "en-US;q=0.9, zh;q=0.1"])
def test_compat_keeps_the_seed_s_chinese_messages(
    monkeypatch: pytest.MonkeyPatch, accept: str
) -> None:
    """error_handler(app): the seed's messages whatever the language; unlisted statuses follow it."""
    for app in seed_app(monkeypatch, MAX_CONTENT_LENGTH=8):

        @app.post("/upload")
        def upload() -> dict[str, int]:
            return {"size": len(request.get_data())}

        client = app.test_client()
        headers = {"Accept-Language": accept}
        assert client.get("/nowhere", headers=headers).get_json()["message"] == "资源不存在"
        assert client.delete("/nowhere", headers=headers).get_json()["message"] == "资源不存在"
        too_large = client.post("/upload", data=b"x" * 64, headers=headers).get_json()
        expected = (
            "发送的数据超过了大小限制。"
            if accept == "zh-CN"
            else ("The data value transmitted exceeds the capacity limit.")
        )
        assert too_large["message"] == expected
