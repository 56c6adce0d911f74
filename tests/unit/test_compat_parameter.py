"""Parameter reads requests as the seed documents and validates without the original's bugs."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from rainbond_kit.compat.parameter import Parameter
from rainbond_kit.errors import BadRequestError
from tests.unit.compat_app import seed_app


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for app in seed_app(monkeypatch):

        @app.route("/api/1.0/demo", methods=["GET", "POST", "PUT", "DELETE"])
        def api_demo() -> Any:
            parameter = Parameter(request)
            if parameter.method == "GET":
                return json.dumps(parameter.param_url, ensure_ascii=False), 200, []
            if parameter.method == "POST":
                return json.dumps(parameter.param_json, ensure_ascii=False), 200, []
            if parameter.method == "PUT":
                return json.dumps(parameter.param_json, ensure_ascii=False), 200, []
            return json.dumps(parameter.param_json, ensure_ascii=False), 200, []

        @app.route("/verify", methods=["GET", "POST"])
        def verify() -> Any:
            parameter = Parameter(request)
            checking = parameter.param_url if parameter.method == "GET" else parameter.param_json
            return parameter.verification(
                checking=checking, verify={"name": str, "age": int}, optional={"age": 18}
            )

        @app.route("/upload", methods=["POST"])
        def upload() -> Any:
            parameter = Parameter(request)
            param = parameter.verification(checking=parameter.param_form, verify={"id": str})
            files = parameter.verification_file(
                verify_field=["updata"], verify_suffix=[["jpg", "png"]]
            )
            return {"id": param["id"], "file": files["updata"].filename}

        @app.get("/content")
        def content() -> Any:
            return Parameter(request).get_content()

        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _body(response: Any) -> Any:
    """The seed's routes return json.dumps text (as text/html), so parse the bytes."""
    return json.loads(response.get_data())


def _verify(app: Flask, checking: Any, **kwargs: Any) -> dict[str, Any]:
    with app.test_request_context():
        return Parameter(request).verification(checking, **kwargs)


def _error(app: Flask, checking: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(BadRequestError) as info:
        _verify(app, checking, **kwargs)
    assert info.value.code == 400
    return info.value.data


def test_seed_demo_route_echoes_params(client: FlaskClient) -> None:
    """The seed's /api/1.0/demo: GET echoes param_url, POST/PUT/DELETE echo param_json."""
    assert _body(client.get("/api/1.0/demo?key=value&书=三体")) == {
        "key": "value",
        "书": "三体",
    }
    for method in ("post", "put", "delete"):
        response = getattr(client, method)("/api/1.0/demo", json={"title": "三体", "n": 1})
        assert _body(response) == {"title": "三体", "n": 1}


def test_param_json_never_raises(client: FlaskClient) -> None:
    """Missing or invalid JSON (any content type) gives {} instead of an error."""
    assert _body(client.post("/api/1.0/demo")) == {}
    assert (
        _body(client.post("/api/1.0/demo", data="{not json", content_type="application/json")) == {}
    )
    assert _body(client.post("/api/1.0/demo", data='{"a": 1}', content_type="text/plain")) == {
        "a": 1
    }
    assert (
        _body(client.post("/api/1.0/demo", data=b"\xff\xfe", content_type="application/json")) == {}
    )


def test_get_content_and_form(app: Flask) -> None:
    """get_content lists method, headers, url, json and form params; forms are still parsed."""
    with app.test_request_context(
        "/x?q=1",
        method="POST",
        data={"a": "1", "b": "二"},
        headers={"X-Real-IP": "6.6.6.6"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    ):
        parameter = Parameter(request)
        content = parameter.get_content()
    assert content["method"] == "POST"
    assert content["param_url"] == {"q": "1"}
    assert content["param_form"] == {"a": "1", "b": "二"}
    assert content["param_json"] == {}
    assert content["headers"]["X-Real-Ip"] == "6.6.6.6"
    assert parameter.ip == "10.0.0.9"  # a client-sent X-Real-IP is not trusted


def test_verification_seed_example_with_optional_age(client: FlaskClient) -> None:
    """verify={'name': str, 'age': int}, optional={'age': 18}: age defaults to 18."""
    assert client.post("/verify", json={"name": "小明"}).get_json() == {"name": "小明", "age": 18}
    assert client.post("/verify", json={"name": "小明", "age": 23}).get_json() == {
        "name": "小明",
        "age": 23,
    }


def test_query_strings_are_coerced(client: FlaskClient) -> None:
    """'18' becomes 18 for an int; 'abc' is a 400 with the field named."""
    assert client.get("/verify?name=x&age=18").get_json() == {"name": "x", "age": 18}
    bad = client.get("/verify?name=x&age=abc")
    assert bad.status_code == 400
    body = bad.get_json()
    assert body["message"] == "请求参数类型校验失败"
    assert body["errors"] == {"age": ["Not a valid integer."]}


def test_verification_does_not_mutate_its_input(app: Flask) -> None:
    """The original inserted defaults and redundant_dict into the caller's dict; not any more."""
    checking = {"name": "x", "extra": [1]}
    before = copy.deepcopy(checking)
    first = _verify(app, checking, verify={"name": str}, optional={"age": 18}, allow_extra=True)
    second = _verify(app, checking, verify={"name": str}, optional={"age": 18}, allow_extra=True)
    assert checking == before
    assert first == second == {"name": "x", "age": 18, "redundant_dict": {"extra": [1]}}
    first["redundant_dict"]["extra"].append(2)
    assert checking == before


def test_missing_required_is_incomplete(app: Flask) -> None:
    """A missing required key is 400 请求参数不完整 with that field in errors."""
    data = _error(app, {"age": 1}, verify={"name": str, "age": int})
    assert data["message"] == "请求参数不完整"
    assert data["errors"] == {"name": ["Missing data for required field."]}


def test_extra_keys_are_refused_unless_allowed(app: Flask) -> None:
    """An undeclared key is 400 有多余的请求参数; allow_extra keeps it out of the data."""
    data = _error(app, {"name": "x", "role": "admin"}, verify={"name": str})
    assert data["message"] == "有多余的请求参数"
    assert data["errors"] == {"role": ["Unknown field."]}
    allowed = _verify(app, {"name": "x", "role": "admin"}, verify={"name": str}, allow_extra=True)
    assert allowed == {"name": "x", "redundant_dict": {"role": "admin"}}


@pytest.mark.parametrize(
    ("declared", "value", "expected"),
    [
        (int, "18", 18),
        (int, 18.0, 18),
        (float, "1.5", 1.5),
        (float, 2, 2.0),
        (bool, "true", True),
        (bool, False, False),
        (list, '["a", 1]', ["a", 1]),
        (list, ["a"], ["a"]),
        (dict, '{"a": 1}', {"a": 1}),
        (dict, {"a": 1}, {"a": 1}),
        (str, "值", "值"),
    ],
)
def test_types_and_coercions(app: Flask, declared: type, value: Any, expected: Any) -> None:
    """Each declared type accepts its values and their query-string text."""
    assert _verify(app, {"v": value}, verify={"v": declared}) == {"v": expected}


@pytest.mark.parametrize(
    ("declared", "value"),
    [
        (int, True),
        (int, 18.5),
        (int, "abc"),
        (float, "nan"),
        (str, 5),
        (bool, "maybe"),
        (list, "not json"),
        (list, {"a": 1}),
        (dict, "[1]"),
        (str, None),
    ],
)
def test_type_mismatch_is_400(app: Flask, declared: type, value: Any) -> None:
    """A wrong type is 400 请求参数类型校验失败 (no silent truncation of 18.5 or True)."""
    data = _error(app, {"v": value}, verify={"v": declared})
    assert data["message"] == "请求参数类型校验失败"
    assert list(data["errors"]) == ["v"]


def test_blank_strings(app: Flask) -> None:
    """A required str may not be blank unless null_value; optional strs may."""
    data = _error(app, {"title": "   "}, verify={"title": str})
    assert data["message"] == "参数 title 不能是空字符串"
    assert _verify(app, {"title": ""}, verify={"title": str}, null_value=True) == {"title": ""}
    assert _verify(app, {"note": ""}, verify={"note": str}, optional={"note": "-"}) == {"note": ""}
    assert _verify(app, {}, verify={"note": str}, optional={"note": None}) == {"note": None}


def test_not_a_dict_is_bad_format(app: Flask) -> None:
    """A JSON list (or anything not a dict) is 400 请求格式不规范."""
    assert _error(app, [1, 2], verify={"a": int})["message"] == "请求格式不规范"


def test_schemas_are_cached(app: Flask) -> None:
    """The same verify/optional signature reuses one schema."""
    from rainbond_kit.compat.typed_schema import schema_for

    one = schema_for({"a": int}, optional=["b"])
    assert schema_for({"a": int}, optional=("b",)) is one
    assert schema_for({"a": str}, optional=["b"]) is not one


def test_verification_file_seed_example(client: FlaskClient) -> None:
    """The file field must be there; '.JPG' passes a 'jpg' rule (case-insensitive)."""
    ok = client.post(
        "/upload",
        data={"id": "1", "updata": (io.BytesIO(b"\xff\xd8"), "照片.JPG")},
        content_type="multipart/form-data",
    )
    assert ok.get_json() == {"id": "1", "file": "照片.JPG"}


def test_verification_file_missing_and_wrong_suffix(client: FlaskClient) -> None:
    """No file is 400 表单文件参数不完整; a .exe is 400 with the allowed suffixes listed."""
    missing = client.post("/upload", data={"id": "1"}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert missing.get_json()["message"] == "表单文件参数不完整"
    assert missing.get_json()["errors"] == {"updata": ["Missing data for required field."]}
    wrong = client.post(
        "/upload",
        data={"id": "1", "updata": (io.BytesIO(b"MZ"), "evil.jpg.exe")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 400
    assert wrong.get_json()["message"] == "表单文件后缀名不符合要求"
    assert wrong.get_json()["errors"] == {"updata": ["Allowed suffixes: jpg, png."]}


def test_verification_file_suffix_forms_and_length_mismatch(app: Flask) -> None:
    """'jpg' and ['jpg'] are equivalent; a length mismatch is a clear ValueError."""
    data = {"a": (io.BytesIO(b"x"), "a.jpg"), "b": (io.BytesIO(b"x"), "b.PNG")}
    with app.test_request_context(method="POST", data=data, content_type="multipart/form-data"):
        parameter = Parameter(request)
        files = parameter.verification_file(["a", "b"], ["jpg", [".png", "gif"]])
        assert files["b"].filename == "b.PNG"
        assert parameter.verification_file(["a"]) is files
        with pytest.raises(ValueError, match="verify_suffix has 1 entries for 2 fields"):
            parameter.verification_file(["a", "b"], ["jpg"])
        for storage in files.values():
            storage.close()
