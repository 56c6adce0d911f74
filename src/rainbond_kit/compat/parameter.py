"""``Parameter(request)``: rainbond-python's request reader and validator.

``verification`` validates with a marshmallow schema built (and cached) from the ``verify``
type map by :func:`rainbond_kit.compat.typed_schema.schema_for`. Unlike the original it never
modifies the dict it checks, returns the coerced values, keeps extra keys (with
``allow_extra=True``) only under ``redundant_dict``, and lists field-level details under
the envelope's ``errors``.

``ip`` is ``request.remote_addr``: a client-sent ``X-Real-IP`` is not trusted. Behind
Rainbond's gateway, wrap the app in ``werkzeug.middleware.proxy_fix.ProxyFix`` so
``remote_addr`` is the client's address.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import marshmallow as ma
from flask import Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from rainbond_kit.body import InvalidJSONError, read_json
from rainbond_kit.compat.typed_schema import (
    BLANK_MESSAGE,
    REQUIRED_MESSAGE,
    UNKNOWN_MESSAGE,
    FieldSpec,
    schema_for,
)
from rainbond_kit.errors import BadRequestError

__all__ = ["Parameter"]

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class Parameter:
    """What a request carries: ``method``, ``headers``, ``param_url``, ``param_json``, ``param_form``."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.ip: str | None = request.remote_addr
        # HEAD is GET without a body (Flask adds it to every GET route; the server drops the
        # body): seed-style views that branch on ``method`` then answer it like GET
        self.method: str = "GET" if request.method == "HEAD" else request.method
        self.headers: dict[str, str] = dict(request.headers)
        self.param_url: dict[str, str] = request.args.to_dict()
        # Form bodies are parsed first: reading the raw body would leave ``form`` empty.
        self.param_form: dict[str, str] = request.form.to_dict()
        body = None
        if request.mimetype not in _FORM_TYPES:
            try:  # the one body loader: hostile JSON is a 400; not JSON at all reads as {}
                body = read_json(request, force=True)
            except InvalidJSONError:
                body = None
        self.param_json: Any = {} if body is None else body

    def get_content(self) -> dict[str, Any]:
        """Everything read from the request, as one dict."""
        return {
            "method": self.method,
            "headers": self.headers,
            "param_url": self.param_url,
            "param_json": self.param_json,
            "param_form": self.param_form,
        }

    def verification(
        self,
        checking: Any,
        verify: Mapping[str, FieldSpec],
        optional: Mapping[str, Any] | None = None,
        null_value: bool = False,
        allow_extra: bool = False,
    ) -> dict[str, Any]:
        """Return ``checking`` validated against ``verify`` (a new dict; ``checking`` untouched).

        :param verify: name -> type (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``);
            query-string text is coerced (``"18"`` -> ``18``).
        :param optional: name -> default for names that may be absent.
        :param null_value: required ``str`` values may be empty.
        :param allow_extra: keys outside ``verify``/``optional`` are returned under
            ``redundant_dict`` instead of refused.
        :raises BadRequestError: 请求格式不规范 / 请求参数不完整 / 有多余的请求参数 /
            请求参数类型校验失败 / 参数 X 不能是空字符串, with details under ``errors``.
        """
        optional = optional or {}
        if not isinstance(checking, Mapping):
            raise BadRequestError("请求格式不规范")
        data = dict(checking)
        for name, default in optional.items():
            if name not in data:
                data[name] = copy.deepcopy(default)
        schema = schema_for(
            verify, optional=optional.keys(), allow_blank=null_value, allow_unknown=allow_extra
        )
        try:
            result: dict[str, Any] = schema.load(data)
        except ma.ValidationError as exc:
            raise _verification_error(exc.messages_dict) from None
        if allow_extra:
            known = verify.keys() | optional.keys()
            result["redundant_dict"] = {
                k: copy.deepcopy(v) for k, v in data.items() if k not in known
            }
        return result

    def verification_file(
        self,
        verify_field: Sequence[str],
        verify_suffix: Sequence[str | Sequence[str]] = (),
    ) -> ImmutableMultiDict[str, FileStorage]:
        """Check that each form file field is present (and has an allowed suffix).

        :param verify_suffix: one entry per field: a suffix (``"jpg"``) or a list of them;
            compared case-insensitively with the file name's extension.
        :raises ValueError: ``verify_suffix`` is given but its length differs from
            ``verify_field``'s (a programming error, named in the message).
        :raises BadRequestError: 表单文件参数不完整 / 表单文件后缀名不符合要求.
        """
        if verify_suffix and len(verify_suffix) != len(verify_field):
            raise ValueError(
                f"verify_suffix has {len(verify_suffix)} entries for {len(verify_field)} "
                "fields in verify_field: give one suffix (or list of suffixes) per field"
            )
        files = self.request.files
        missing = [name for name in verify_field if not getattr(files.get(name), "filename", "")]
        if missing:
            raise BadRequestError(
                "表单文件参数不完整", errors={name: [REQUIRED_MESSAGE] for name in missing}
            )
        wrong: dict[str, list[str]] = {}
        for name, allowed in zip(verify_field, verify_suffix, strict=False):
            suffixes = {
                _suffix(item) for item in ([allowed] if isinstance(allowed, str) else allowed)
            }
            filename = files[name].filename or ""
            extension = filename.rsplit(".", 1)[1].lower() if "." in filename else ""
            if extension not in suffixes:
                wrong[name] = [f"Allowed suffixes: {', '.join(sorted(suffixes))}."]
        if wrong:
            raise BadRequestError("表单文件后缀名不符合要求", errors=wrong)
        return files


def _suffix(text: str) -> str:
    return text.strip().lstrip(".").lower()


def _verification_error(messages: dict[str, Any]) -> BadRequestError:
    """Pick the seed's message for the most basic failure and keep every detail."""
    by_kind: dict[str, list[str]] = {"missing": [], "extra": [], "blank": [], "type": []}
    for name, problems in messages.items():
        texts = problems if isinstance(problems, list) else [problems]
        if REQUIRED_MESSAGE in texts:
            by_kind["missing"].append(name)
        elif UNKNOWN_MESSAGE in texts:
            by_kind["extra"].append(name)
        elif texts == [BLANK_MESSAGE]:
            by_kind["blank"].append(name)
        else:
            by_kind["type"].append(name)
    if by_kind["missing"]:
        message = "请求参数不完整"
    elif by_kind["extra"]:
        message = "有多余的请求参数"
    elif by_kind["type"]:
        message = "请求参数类型校验失败"
    else:
        message = f"参数 {by_kind['blank'][0]} 不能是空字符串"
    return BadRequestError(message, errors=messages)
