"""What two language versions of a Markdown document must share: commands, variables, structure.

Text may differ; fenced code blocks (comments aside, which may be translated), environment
variable names and the heading structure may not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Outline", "outline"]

_FENCE = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+\S", re.MULTILINE)
_VARIABLE = re.compile(r"(?<![\w$-])_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w-])")
_COMMENT_LINE = re.compile(r"^[ \t]*#(?!!)[^\n]*\n?", re.MULTILINE)
_TRAILING_COMMENT = re.compile(r"[ \t]+# [^\n]*$", re.MULTILINE)


@dataclass(frozen=True)
class Outline:
    """The language-independent parts of a Markdown document."""

    code_blocks: tuple[str, ...]
    variables: frozenset[str]
    headings: tuple[int, ...]


def _code(block: str) -> str:
    block = _TRAILING_COMMENT.sub("", block)
    return _COMMENT_LINE.sub("", block).strip()


def outline(markdown: str) -> Outline:
    """Code blocks (without comments), variable names and heading levels of ``markdown``."""
    blocks = [match.group() for match in _FENCE.finditer(markdown)]
    prose = _FENCE.sub("", markdown)
    return Outline(
        code_blocks=tuple(_code(block) for block in blocks),
        variables=frozenset(_VARIABLE.findall(markdown)),
        headings=tuple(len(match.group(1)) for match in _HEADING.finditer(prose)),
    )
