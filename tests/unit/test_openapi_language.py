"""The OpenAPI document's generated texts follow RAINBOND_LANG; its structure never does.

The same apps are built with ``RAINBOND_LANG=en`` and ``zh-CN``: the kit's texts (the list
language, filters, control parameters, summaries, headers, error responses, the envelope and
its examples, the token scheme, files) are Chinese in one and English in the other, a user's
own texts are the same in both, and with every text blanked the two documents are equal.
"""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_smorest import Blueprint
from openapi_spec_validator import validate
from sample_app import create_app

from rainbond_kit import RainbondKit, ResourceView, Settings, get_api
from rainbond_kit.auth.openapi import document_token_security
from rainbond_kit.i18n import DocText, localize, translate
from rainbond_kit.openapi_examples import envelope_example
from tests.unit.test_openapi_document import Gadget

BOOKS, ITEM = "/api/v1/books", "/api/v1/books/{item_id}"
#: Chinese characters or full-width punctuation
CHINESE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
#: keys whose string values are prose (what a language changes)
TEXT_KEYS = frozenset({"description", "summary"})


class Gadgets(ResourceView):
    """Gadgets in stock."""

    COLLECTION = "gadgets"
    SCHEMA = Gadget
    ETAG = True
    RATE_LIMIT = "100/minute"
    SOFT_DELETE = False
    DOCS = {"list": {"summary": "Browse the gadgets"}}  # noqa: RUF012


@pytest.fixture
def books_specs(offline_settings: Settings) -> Iterator[Callable[[str], dict[str, Any]]]:
    """The sample app's /openapi.json for a RAINBOND_LANG value."""
    apps: list[Flask] = []

    def build(language: str) -> dict[str, Any]:
        app = create_app(offline_settings, {"TESTING": True, "RAINBOND_LANG": language})
        apps.append(app)
        spec: dict[str, Any] = app.test_client().get("/openapi.json").get_json()
        return spec

    yield build
    for app in apps:
        RainbondKit.shutdown(app)


@pytest.fixture
def gadgets_apps(offline_settings: Settings) -> Iterator[dict[str, Flask]]:
    """A secured, ETag, rate-limited resource in each language."""
    apps = {}
    for language in ("en", "zh-CN"):
        app = Flask("gadgets")
        app.config["RAINBOND_LANG"] = language
        RainbondKit(app, settings=offline_settings)
        blp = Blueprint("gadgets", __name__, url_prefix="/gadgets")
        Gadgets.register(blp)
        get_api(app).register_blueprint(blp)
        document_token_security(get_api(app))
        apps[language] = app
    yield apps
    for app in apps.values():
        RainbondKit.shutdown(app)


def _blank(document: Any, key: str | None = None) -> Any:
    """``document`` with every prose text and example message emptied (its structure)."""
    if isinstance(document, dict):
        return {k: _blank(v, k) for k, v in document.items()}
    if isinstance(document, list):
        return [_blank(v, key) for v in document]
    if isinstance(document, str) and key in TEXT_KEYS | {"message", "errors", "json", "title"}:
        return ""
    if isinstance(document, str) and key == "$limit":  # an example's field error
        return ""
    return document


def _texts(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(document, dict):
        for k, v in document.items():
            if k in TEXT_KEYS and isinstance(v, str):
                yield f"{path}/{k}", v
            else:
                yield from _texts(v, f"{path}/{k}")
    elif isinstance(document, list):
        for i, v in enumerate(document):
            yield from _texts(v, f"{path}/{i}")


def test_generated_texts_are_chinese_with_rainbond_lang_zh_cn(
    books_specs: Callable[[str], dict[str, Any]],
) -> None:
    """Summaries, the list language, control and filter parameters, error responses: zh-CN."""
    en, zh = books_specs("en"), books_specs("zh-CN")
    listing, zh_listing = en["paths"][BOOKS]["get"], zh["paths"][BOOKS]["get"]
    assert listing["summary"] == "List books"
    assert zh_listing["summary"] == "查询 books 列表"
    assert zh["paths"][ITEM]["get"]["summary"] == "获取 book"
    assert zh["paths"][BOOKS]["post"]["summary"] == "创建 book"
    assert zh["paths"][ITEM]["patch"]["summary"] == "更新 book（部分更新）"
    assert zh_listing["description"].startswith("过滤：`field=value`（文本字段：按字面*包含*匹配")
    assert zh_listing["description"].endswith(
        "可过滤字段：`author`, `creation_time`, `id`, `reads`, `tags`, `title`, "
        "`update_time`, `year`。"
    )
    params = {p["name"]: p["description"] for p in zh_listing["parameters"]}
    assert params["$limit"] == "每页条数（最多 100）"
    assert params["$count"].startswith("`total` 的计数方式（响应头 `X-Total-Count-Strategy`")
    assert "`bounded` 数到 1000 为止" in params["$count"]
    assert params["$start_date"] == (
        "范围起点，与 `$end_date` 一起使用：日期（`2020-10-1`、`2020-10-01 08:30:00`）"
        "或 10/13 位 Unix 时间戳"
    )
    assert params["year[gte]"] == "过滤：`year` 大于等于"
    assert params["title"] == "过滤：`title` 包含该文本（按字面匹配，区分大小写）"
    assert params["tags[in]"] == "过滤：`tags` 中的某个元素等于其中任一值（逗号分隔或重复传参）"
    en_params = {p["name"]: p["description"] for p in listing["parameters"]}
    assert en_params["year[gte]"] == "filter: `year` at least"
    assert en_params["$limit"] == "page size (at most 100)"
    responses = zh["components"]["responses"]
    assert responses["NOT_FOUND"]["description"] == "未找到"
    assert responses["DEFAULT_ERROR"]["description"] == "默认错误响应"
    assert en["components"]["responses"]["NOT_FOUND"]["description"] == "Not Found"
    envelope = zh["components"]["schemas"]["Envelope"]["properties"]
    assert envelope["message"]["description"] == "出错原因"
    headers = zh_listing["responses"]["200"]["headers"]
    assert headers["X-Total-Count"]["description"] == (
        "匹配的文档数，与 `total` 相同（`$count=none` 时没有；`X-Total-Count-Strategy` 为 "
        "`bounded` 时是下限）"
    )


def test_envelope_examples_carry_the_messages_the_server_would_send(
    books_specs: Callable[[str], dict[str, Any]],
) -> None:
    """The 404 example's message is the envelope's zh-CN translation; code and keys unchanged."""
    zh = books_specs("zh-CN")
    english = envelope_example(404)
    example = zh["components"]["responses"]["NOT_FOUND"]["content"]["application/json"]["example"]
    assert example["message"] == translate(english["message"], "zh-CN")
    assert CHINESE.search(example["message"])
    assert {k: v for k, v in example.items() if k != "message"} == {
        k: v for k, v in english.items() if k != "message"
    }
    invalid = zh["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]["application/json"]
    assert invalid["example"]["errors"] == {"json": {"title": ["缺少必填字段。"]}}


def test_the_two_documents_differ_only_in_their_texts(
    books_specs: Callable[[str], dict[str, Any]],
) -> None:
    """Paths, operationIds, parameters, schemas: identical; both documents are valid OpenAPI."""
    en, zh = books_specs("en"), books_specs("zh-CN")
    validate(en)
    validate(zh)
    assert _blank(en) == _blank(zh)
    assert list(en["paths"]) == list(zh["paths"])
    assert list(en["components"]["schemas"]) == list(zh["components"]["schemas"])


def test_users_texts_stay_as_written(books_specs: Callable[[str], dict[str, Any]]) -> None:
    """Every text equal in both languages is the app's own (or flask-smorest's status words)."""
    en, zh = dict(_texts(books_specs("en"))), dict(_texts(books_specs("zh-CN")))
    same = {path: text for path, text in en.items() if zh[path] == text}
    assert same["/tags/0/description"] == "Books"
    assert same["/paths/~demo/get/summary".replace("~demo", "/api/v1/demo")].startswith(
        "List books, seed style"
    )
    kit_words = ("filter:", "page size", "List ", "Create ", "Required:", "HTTP status", "24 hex")
    leaked = {
        path: text
        for path, text in same.items()
        if text.startswith(kit_words) and "/demo/" not in path  # the compat demo's own words
    }
    assert leaked == {}
    changed = [path for path in en if zh[path] != en[path]]
    assert len(changed) > 100
    assert all(CHINESE.search(zh[path]) for path in changed)


def test_etag_rate_limit_token_and_docs_overrides(gadgets_apps: dict[str, Flask]) -> None:
    """If-Match, rate-limit headers and the token scheme are translated; DOCS stays as written."""
    zh = gadgets_apps["zh-CN"].test_client().get("/openapi.json").get_json()
    en = gadgets_apps["en"].test_client().get("/openapi.json").get_json()
    validate(zh)
    assert _blank(en) == _blank(zh)
    put = zh["paths"]["/gadgets/{item_id}"]["put"]
    assert {p["name"]: p["description"] for p in put["parameters"]}["If-Match"].startswith(
        "仅当文档仍是这个版本时才写入"
    )
    assert put["description"].endswith(
        "请在 `If-Match` 中带上读取时得到的 `ETag`，以免覆盖他人的修改。"
    )
    assert put["description"].startswith("替换 gadget 中由客户端填写的字段。必填：`code`。")
    headers = put["responses"]["200"]["headers"]
    assert headers["X-RateLimit-Limit"]["description"] == "每个时间窗口允许的请求数"
    assert headers["ETag"]["description"] == "文档的版本；在 `If-Match` 中回传"
    assert zh["paths"]["/gadgets/{item_id}"]["delete"]["description"] == (
        "删除该文档。请在 `If-Match` 中带上读取时得到的 `ETag`，以免覆盖他人的修改。"
    )
    assert zh["paths"]["/gadgets"]["get"]["summary"] == "Browse the gadgets"  # DOCS: the user's
    token = zh["components"]["securitySchemes"]["token"]["description"]
    assert token == "认证中心的 token（也可用 `Authorization: Bearer <token>`）"
    assert en["components"]["securitySchemes"]["token"]["description"].startswith("Auth-center")


def test_lang_query_parameter_picks_the_document_language(gadgets_apps: dict[str, Flask]) -> None:
    """?lang=en on a zh-CN app is English (and back); an unknown lang is a 400 envelope."""
    zh_client = gadgets_apps["zh-CN"].test_client()
    english = zh_client.get("/openapi.json?lang=en").get_json()
    assert english == gadgets_apps["en"].test_client().get("/openapi.json").get_json()
    chinese = gadgets_apps["en"].test_client().get("/openapi.json?lang=zh_CN").get_json()
    assert chinese == zh_client.get("/openapi.json").get_json()
    refused = zh_client.get("/openapi.json?lang=fr", headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "lang must be one of en, zh-CN, got 'fr'"


def test_doc_text_survives_copies_and_nests() -> None:
    """deepcopy/pickle keep the catalog entry; nested parameters are translated first."""
    text = DocText("Create {item}", item=DocText("a {noun}", noun="book"))
    assert text == "Create a book"
    for copied in (copy.deepcopy(text), pickle.loads(pickle.dumps(text))):
        assert isinstance(copied, DocText)
        assert copied.translated("zh-CN") == "创建 book"
    message = DocText.message("no document with id {x}")  # braces in a message are literal
    assert copy.deepcopy(message).translated("en") == "no document with id {x}"
    assert localize({"a": [text, "plain"], "b": 1}, "zh-CN") == {
        "a": ["创建 book", "plain"],
        "b": 1,
    }
    assert type(localize({"a": text}, "en")["a"]) is str
