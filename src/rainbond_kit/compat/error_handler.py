"""``error_handler(app)``: rainbond-python's error and CORS set-up, done by :class:`RainbondKit`.

The app gets the same JSON envelope and CORS as with ``RainbondKit(app)``, with the seed's
Chinese messages for the status codes it handled. Fixed: CORS no longer reflects any
``Origin`` together with ``Access-Control-Allow-Credentials``; Chinese text is sent
unescaped on current Flask (``app.json.ensure_ascii = False``, as the original's
``JSON_AS_ASCII``); every status (also 413, 422, 429 ...) gets the envelope.
"""

from __future__ import annotations

from flask import Flask

from rainbond_kit.extension import RainbondKit
from rainbond_kit.extension_state import EXTENSION_KEY

__all__ = ["SEED_ERROR_MESSAGES", "error_handler"]

#: rainbond-python 1.3.7's messages, by status code (``RAINBOND_ERROR_MESSAGES``).
SEED_ERROR_MESSAGES: dict[int, str] = {
    400: "请求参数错误",
    401: "未经登录授权",
    403: "没有资源的必要权限",
    404: "资源不存在",
    405: "不允许的方法",
    406: "不支持所需表示",
    409: "发生冲突",
    412: "前置条件失败",
    415: "不支持收到的表示",
    500: "服务内部错误",
    503: "服务无法处理请求",
    504: "服务网关超时",
}


def error_handler(app: Flask, simple_cors: bool = True) -> None:
    """Install the envelope (seed messages) and, if ``simple_cors``, CORS without credentials.

    Initialises :class:`RainbondKit` on ``app`` unless it already is; values the app's
    config already sets (``RAINBOND_CORS``, ``RAINBOND_ERROR_MESSAGES``) are kept.
    """
    # the original set JSON_AS_ASCII = False: the app's own jsonify() keeps Chinese readable
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider attribute
    if EXTENSION_KEY in app.extensions:
        if not app.config.get("RAINBOND_ERROR_MESSAGES"):
            app.config["RAINBOND_ERROR_MESSAGES"] = dict(SEED_ERROR_MESSAGES)
        return
    app.config.setdefault("RAINBOND_CORS", simple_cors)
    app.config.setdefault("RAINBOND_ERROR_MESSAGES", dict(SEED_ERROR_MESSAGES))
    RainbondKit(app)
