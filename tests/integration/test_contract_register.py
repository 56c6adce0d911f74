"""Issue 12: ``register()`` validates every option and names the offending one."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest

from rainbond_kit import ConfigurationError, RainbondKit, ResourceView, Settings
from tests.integration.contract_support import make_resource, serve


class PlainSchema(ma.Schema):
    title = ma.fields.String(required=True)
    year = ma.fields.Integer()


def _serve_and_close(settings: Settings, resource: type[ResourceView]) -> None:
    RainbondKit.shutdown(serve(settings, resource))  # reached when register() accepted it


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"OPERATIONS": frozenset({"lsit"})}, "lsit"),
        ({"OPERATIONS": frozenset({"list", "craete"})}, "craete"),
        ({"SORT_FIELDS": ("year", "nope")}, "nope"),
        ({"FILTER_FIELDS": ("nope",)}, "nope"),
        ({"PAGE_SIZE": 200, "MAX_PAGE_SIZE": 100}, "PAGE_SIZE"),
        ({"PAGE_SIZE": 0}, "PAGE_SIZE"),
        ({"ROW_LEVEL_FIELD": "creator"}, "ROW_LEVEL_FIELD"),
    ],
)
def test_register_refuses_bad_options_naming_them(
    rainbond_settings: Settings, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        _serve_and_close(rainbond_settings, make_resource(PlainSchema, **options))


def test_page_size_at_the_cap_serves_plain_lists(rainbond_settings: Settings) -> None:
    app = serve(rainbond_settings, make_resource(PlainSchema, PAGE_SIZE=50, MAX_PAGE_SIZE=50))
    try:
        assert app.test_client().get("/things").status_code == 200
    finally:
        RainbondKit.shutdown(app)
