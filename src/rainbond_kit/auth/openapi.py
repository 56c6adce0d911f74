"""Declaring the auth center's ``token`` header in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from rainbond_kit.i18n import DocText

__all__ = ["SECURITY_SCHEME", "TOKEN_SECURITY", "document_token_security"]

SECURITY_SCHEME = "token"

#: Pass as ``@blp.doc(security=TOKEN_SECURITY)`` (or an operation's ``security``).
TOKEN_SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]


def document_token_security(api: Any, *, default: bool = False) -> None:
    """Declare the ``token`` header as an ``apiKey`` security scheme on a flask-smorest ``Api``.

    With ``default=True`` every operation requires it unless it says otherwise. Safe to call
    more than once.
    """
    components = api.spec.components
    if SECURITY_SCHEME not in components.security_schemes:
        components.security_scheme(
            SECURITY_SCHEME,
            {
                "type": "apiKey",
                "in": "header",
                "name": "token",
                "description": DocText(
                    "Auth-center token (`Authorization: Bearer <token>` also works)"
                ),
            },
        )
    if default:
        api.spec.options["security"] = TOKEN_SECURITY
