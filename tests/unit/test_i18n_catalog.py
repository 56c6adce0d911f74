"""The zh-CN catalog covers every message the kit raises, and the shipped .mo matches the .po.

The kit's messages are collected from its source: the text (or f-string) given to an HTTP
error class, ``abort``/``http_error`` or a query-parameter error, the texts in a literal
``errors=`` mapping, and store names given to ``store_errors``/``http_error_for``. A new
message without a translation fails here, naming it.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from pathlib import Path

import marshmallow as ma
import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

import rainbond_kit
from rainbond_kit.i18n import catalog_for, normalize, request_language, translate, translate_errors
from rainbond_kit.i18n.catalog import LOCALES, placeholders

PACKAGE = Path(rainbond_kit.__file__).parent
PO = LOCALES / "zh_CN" / "LC_MESSAGES" / "rainbond_kit.po"
MO = PO.with_suffix(".mo")
#: Not client-facing (CLI, tools) or kept as the seed wrote it (compat).
SKIPPED = ("compat", "backup", "scaffold", "doctor", "cli.py", "embedded.py", "entrypoints.py")
ERROR_CALLS = frozenset(
    {
        "BadRequestError",
        "UnauthorizedError",
        "ForbiddenError",
        "NotFoundError",
        "ConflictError",
        "PreconditionFailedError",
        "TooManyRequestsError",
        "ServiceUnavailableError",
        "HTTPError",
        "parameter_error",
        "_bad",
    }
)
STATUS_FIRST = frozenset({"abort", "http_error"})
STORE_CALLS = frozenset({"store_errors", "http_error_for"})
HOLE = "\x00"


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _texts(node: ast.expr | None, constants: dict[str, str]) -> Iterator[str]:
    """The message templates an expression can be (f-string holes become HOLE)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield "".join(
            part.value if isinstance(part, ast.Constant) else HOLE for part in node.values
        )
    elif isinstance(node, ast.Name) and node.id in constants:
        yield constants[node.id]
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _texts(value, constants)


def _field_texts(node: ast.expr, constants: dict[str, str]) -> Iterator[str]:
    if isinstance(node, ast.Dict):
        for value in node.values:
            if isinstance(value, ast.List):
                for item in value.elts:
                    yield from _texts(item, constants)


def kit_messages() -> dict[str, set[str]]:
    """Every message template the kit's source raises -> the files raising it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(SKIPPED) or relative.endswith("/cli.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            if isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name = _name(call)
            texts: list[str] = []
            if name in ERROR_CALLS and call.args:
                texts += _texts(call.args[0], constants)
            if name in STATUS_FIRST and len(call.args) > 1:
                texts += _texts(call.args[1], constants)
            if name in STORE_CALLS:
                store = [k.value for k in call.keywords if k.arg == "store"]
                args = call.args if name == "store_errors" else []
                for node in [*args, *store]:
                    texts += _texts(node, constants)
            if name in ERROR_CALLS | STATUS_FIRST:
                for keyword in call.keywords:
                    if keyword.arg == "errors":
                        texts += _field_texts(keyword.value, constants)
            for text in texts:
                found.setdefault(text, set()).add(relative)
    return found


def _shape(msgid: str) -> str:
    """A catalog template with its placeholders as HOLE, comparable to an f-string's shape."""
    return re.sub(r"\{[A-Za-z_]\w*\}", HOLE, msgid)


def _po_messages() -> dict[str, str]:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_every_kit_message_has_a_zh_cn_translation() -> None:
    """Each message raised in the kit's source matches a catalog entry (exactly or as a template)."""
    shapes = {_shape(msgid) for msgid in _po_messages()}
    found = kit_messages()
    missing = {
        text.replace(HOLE, "{...}"): sorted(files)
        for text, files in found.items()
        if text not in shapes
    }
    assert not missing, f"add these messages to {PO.name} and compile it: {missing}"


def test_the_scan_finds_the_kit_s_messages() -> None:
    """Control: the scan sees plain, f-string, constant, errors= and store-name messages."""
    found = kit_messages()
    assert len(found) > 50
    for text in (
        "token verification failed",
        f"no document with id {HOLE}",
        "a document with the same unique key exists",
        "Not a valid ObjectId.",
        "auth session store",
        f"{HOLE}: {HOLE}",
    ):
        assert text in found, text


def test_a_message_missing_from_the_catalog_is_reported() -> None:
    """Control: a message the catalog lacks is not silently counted as translated."""
    shapes = {_shape(msgid) for msgid in _po_messages()}
    assert f"no widget with id {HOLE}" not in shapes
    assert catalog_for("zh_CN").translate("no widget with id 7") is None


def test_every_entry_is_translated_with_the_same_placeholders() -> None:
    """No empty msgstr; the translation keeps every placeholder name of its msgid."""
    for msgid, text in _po_messages().items():
        assert text, msgid
        assert set(placeholders(text)) == set(placeholders(msgid)), msgid


def test_the_shipped_mo_is_compiled_from_the_po() -> None:
    """The .mo in the package holds exactly the .po's translations (recompile after editing)."""
    with MO.open("rb") as handle:
        compiled = read_mo(io.BytesIO(handle.read()))
    assert {str(m.id): str(m.string) for m in compiled if m.id} == _po_messages()


def _marshmallow_examples() -> Iterator[str]:
    """marshmallow's built-in messages, formatted as a schema sends them."""
    for value in vars(ma.fields).values():
        if isinstance(value, type) and issubclass(value, ma.fields.Field):
            for message in getattr(value, "default_error_messages", {}).values():
                yield message.format(
                    input="x", obj_type="datetime", awareness="naive", min=1, max=2, choices="a"
                )
    yield from ma.Schema._default_error_messages.values()
    yield ma.validate.Length(min=1, max=3)._format_error(0, ma.validate.Length.message_all)
    yield ma.validate.Length(equal=3)._format_error(0, ma.validate.Length.message_equal)
    yield ma.validate.Length(max=3)._format_error(0, ma.validate.Length.message_max)
    yield ma.validate.Length(min=3)._format_error(0, ma.validate.Length.message_min)
    for inclusive in ((True, True), (True, False), (False, True), (False, False)):
        both = ma.validate.Range(1, 5, min_inclusive=inclusive[0], max_inclusive=inclusive[1])
        yield both._format_error(9, both.message_all)
        yield both._format_error(9, both.message_min)
        yield both._format_error(9, both.message_max)
    yield ma.validate.OneOf(["a", "b"])._format_error("c")
    yield ma.validate.Equal(1)._format_error(2)
    yield ma.validate.Email()._format_error("x")
    yield ma.validate.URL()._format_error("x")
    yield ma.validate.Regexp("a")._format_error("x")
    yield ma.validate.ContainsOnly(["a"])._format_error(["b"])
    yield ma.validate.NoneOf(["a"])._format_error("a")


@pytest.mark.parametrize("message", sorted(set(_marshmallow_examples())))
def test_marshmallow_built_in_messages_are_translated(message: str) -> None:
    """Every default message of marshmallow's fields and validators has a zh-CN form."""
    translated = translate(message, "zh-CN")
    assert translated != message
    assert re.search(r"[\u4e00-\u9fff]", translated), translated


@pytest.mark.parametrize(
    ("message", "chinese"),
    [
        ("no document with id 65f0", "找不到 id 为 65f0 的文档"),
        ("mongodb is unavailable", "mongodb 不可用"),
        ("auth database is unavailable", "认证数据库 不可用"),
        ("Not a valid datetime.", "不是有效的日期时间。"),
        ("Not a valid phone.", "Not a valid phone."),  # an application's own wording
        ("size: at most 100 values", "size：最多 100 个值"),
        ("size: something of our own", "size: something of our own"),
        ("$after: malformed cursor", "$after：游标格式错误"),
    ],
)
def test_templates_fill_parameters_after_translation(message: str, chinese: str) -> None:
    """Parameters keep their values; words the catalog knows inside them are translated."""
    assert translate(message, "zh-CN") == chinese
    assert translate(message, "en") == message


def test_errors_keep_their_keys_and_shape() -> None:
    """Field names and nesting never change; only known texts do."""
    errors = {"json": {"title": ["Unknown field.", "mine"], "0": {"x": ["Invalid value."]}}}
    assert translate_errors(errors, "zh-CN") == {
        "json": {"title": ["未知字段。", "mine"], "0": {"x": ["值无效。"]}}
    }
    assert translate_errors(errors, "en") is errors


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN;q=0, *", "en"),
        ("zh-TW", "en"),
        ("zh-Hant, zh-Hans;q=0.5", "zh-CN"),
        ("en-US;q=0.9, zh-CN;q=0.3", "en"),
        ("de, zh-SG;q=0.2", "zh-CN"),
        ("", "en"),
    ],
)
def test_accept_language_ranges(header: str, language: str) -> None:
    """q-values rank the ranges; q=0 excludes one; unknown languages are skipped."""
    app = Flask("negotiate")
    with app.test_request_context(headers={"Accept-Language": header}):
        assert request_language() == language


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zh_CN.UTF-8", "zh-CN"), ("C.UTF-8", "en"), ("en_GB", "en"), ("zh_TW", None), ("de", None)],
)
def test_normalize_locale_names(value: str, expected: str | None) -> None:
    """POSIX locale names and BCP 47 tags map to the supported languages."""
    assert normalize(value) == expected


def _doc_texts() -> dict[str, set[str]]:
    """Every ``DocText("...")`` literal in the kit's source (both arms of a conditional)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            if isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _name(call) == "DocText" and call.args):
                continue
            first = call.args[0]
            arms = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            for arm in arms:
                if isinstance(arm, ast.Name) and arm.id in constants:
                    found.setdefault(constants[arm.id], set()).add(relative)
                if isinstance(arm, ast.Constant) and isinstance(arm.value, str):
                    found.setdefault(arm.value, set()).add(relative)
    return found


def test_every_openapi_text_has_a_zh_cn_translation() -> None:
    """Each DocText the kit writes into the OpenAPI document has an entry (msgctxt openapi)."""
    with PO.open("rb") as handle:
        entries = {
            (m.context, str(m.id)): str(m.string) for m in read_po(handle) if m.id and m.string
        }
    texts = _doc_texts()
    assert len(texts) > 80  # the scan sees them: querydocs, resource.openapi, filestore, ...
    assert "filter: `{field}` {what}" in texts
    assert "an {noun}" in texts  # the other arm of a conditional
    missing = {
        text: sorted(files)
        for text, files in texts.items()
        if ("openapi", text) not in entries and (None, text) not in entries
    }
    assert not missing, f"add these OpenAPI texts to {PO.name} (msgctxt openapi): {missing}"
