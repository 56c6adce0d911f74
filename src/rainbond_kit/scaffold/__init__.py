"""The component scaffold: ``rainbond-kit new NAME`` (or ``rainbond-kit -c NAME``).

:func:`create_component` writes a Rainbond-ready project from the templates shipped in
this package (``templates/component/``, read with :mod:`importlib.resources`).
"""

from __future__ import annotations

from rainbond_kit.scaffold.project import (
    NAME_RULE,
    ScaffoldError,
    create_component,
    render,
    template_files,
    validate_name,
)

__all__ = [
    "NAME_RULE",
    "ScaffoldError",
    "create_component",
    "render",
    "template_files",
    "validate_name",
]
