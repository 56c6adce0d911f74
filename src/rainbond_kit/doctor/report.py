"""One check's outcome and the report that prints them (text or JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

__all__ = ["Check", "Status", "exit_code", "render_json", "render_text"]

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One line of the checklist; a ``fail`` says how to fix it in ``fix``."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def exit_code(checks: Sequence[Check]) -> int:
    """0 when nothing failed (warnings allowed), else 1."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def render_text(checks: Sequence[Check]) -> str:
    """The checklist for people: one line per check, its fix indented below a failure."""
    width = max((len(c.name) for c in checks), default=0)
    lines: list[str] = []
    for check in checks:
        lines.append(f"{check.status.upper():<5} {check.name:<{width}}  {check.detail}")
        if check.fix:
            lines.append(f"{'':<5} {'':<{width}}  fix: {check.fix}")
    failed = sum(c.status == "fail" for c in checks)
    lines.append(f"{failed} failed" if failed else "all checks passed")
    return "\n".join(lines)


def render_json(checks: Sequence[Check]) -> str:
    """The checklist for machines: ``{"ok": bool, "checks": [...]}``."""
    return json.dumps({"ok": exit_code(checks) == 0, "checks": [asdict(c) for c in checks]})
