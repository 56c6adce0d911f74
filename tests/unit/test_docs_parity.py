"""The Chinese documentation keeps up with the English: same commands, variables, sections.

Prose may differ; fenced code blocks (their comments may be translated), environment
variable names and the heading structure may not. Links between the two must resolve.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.doc_parity import outline

ROOT = Path(__file__).resolve().parents[2]
PAIRS = [
    ("README.md", "README.zh-CN.md"),
    ("docs/deploy.md", "docs/zh-CN/deploy.md"),
    ("docs/auth.md", "docs/zh-CN/auth.md"),
    ("docs/backup.md", "docs/zh-CN/backup.md"),
    ("docs/compat.md", "docs/zh-CN/compat.md"),
    ("docs/scaling.md", "docs/zh-CN/scaling.md"),
    ("docs/openapi.md", "docs/zh-CN/openapi.md"),
    ("docs/resources.md", "docs/zh-CN/resources.md"),
    ("docs/data-rules.md", "docs/zh-CN/data-rules.md"),
    ("docs/batch.md", "docs/zh-CN/batch.md"),
]
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize(("english", "chinese"), PAIRS)
def test_same_code_blocks(english: str, chinese: str) -> None:
    """Every command and code sample of the English page is in the Chinese one, in order."""
    assert outline(_read(chinese)).code_blocks == outline(_read(english)).code_blocks


@pytest.mark.parametrize(("english", "chinese"), PAIRS)
def test_same_environment_variables(english: str, chinese: str) -> None:
    """Both pages name the same environment variables (and config keys)."""
    en, zh = outline(_read(english)).variables, outline(_read(chinese)).variables
    assert sorted(en - zh) == [], "only in English"
    assert sorted(zh - en) == [], "only in Chinese"


@pytest.mark.parametrize(("english", "chinese"), PAIRS)
def test_same_section_structure(english: str, chinese: str) -> None:
    """The same headings at the same levels, in the same order."""
    assert outline(_read(chinese)).headings == outline(_read(english)).headings


@pytest.mark.parametrize("page", [page for pair in PAIRS for page in pair])
def test_relative_links_resolve(page: str) -> None:
    """Links to other files of the repository point at files that exist."""
    folder = (ROOT / page).parent
    for target in _LINK.findall(_read(page)):
        if "://" not in target and not target.startswith("mailto:"):
            assert (folder / target).exists(), f"{page} links to missing {target}"


@pytest.mark.parametrize(("english", "chinese"), PAIRS)
def test_each_page_links_to_its_translation(english: str, chinese: str) -> None:
    """The first lines of each page link to the other language."""
    en_folder, zh_folder = (ROOT / english).parent, (ROOT / chinese).parent
    en_head = "\n".join(_read(english).splitlines()[:5])
    zh_head = "\n".join(_read(chinese).splitlines()[:5])
    assert f"]({_relative(ROOT / chinese, en_folder)})" in en_head
    assert f"]({_relative(ROOT / english, zh_folder)})" in zh_head


def _relative(target: Path, folder: Path) -> str:
    parts_target, parts_folder = target.parts, folder.parts
    common = 0
    while common < min(len(parts_target), len(parts_folder)) and (
        parts_target[common] == parts_folder[common]
    ):
        common += 1
    return "/".join([".."] * (len(parts_folder) - common) + list(parts_target[common:]))


def test_outline_sees_a_drifted_command() -> None:
    """Control: a changed command, a missing variable or a dropped section is a difference."""
    english = "# A\n\nSet `MONGODB_URI`.\n\n## B\n\n```bash\npip install x  # install\n```\n"
    translated = "# 甲\n\n设置 `MONGODB_URI`。\n\n## 乙\n\n```bash\npip install x  # 安装\n```\n"
    assert outline(translated) == outline(english)
    assert outline(translated.replace("pip install x", "pip install y")) != outline(english)
    assert outline(translated.replace("MONGODB_URI", "MONGO")) != outline(english)
    assert outline(translated.replace("## 乙", "乙")) != outline(english)
