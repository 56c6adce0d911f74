"""``rainbond-kit new --lang``: the component README in Chinese or English, same commands."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner, Result

from rainbond_kit.cli import main
from rainbond_kit.scaffold import template_files
from rainbond_kit.scaffold.project import locale_language
from tests.unit.doc_parity import outline

CHINESE = re.compile(r"[\u4e00-\u9fff]")
REQUIREMENT = ["--kit-requirement", "rainbond-kit==0.1.0"]  # no wheel to build
README = PurePosixPath("README.md")


def _new(tmp_path: Path, args: list[str], env: dict[str, str]) -> Result:
    clean = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": "", **env}
    return CliRunner().invoke(
        main, ["new", "shop", "-d", str(tmp_path), *REQUIREMENT, *args], env=clean
    )


def _readme(tmp_path: Path) -> str:
    return (tmp_path / "shop" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "env", "chinese"),
    [
        (["--lang", "zh-CN"], {}, True),
        (["--lang", "zh-cn"], {}, True),
        (["--lang", "en"], {"LANG": "zh_CN.UTF-8"}, False),
        ([], {"LANG": "zh_CN.UTF-8"}, True),
        ([], {"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"}, False),
        ([], {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, True),
        ([], {"LANG": "de_DE.UTF-8"}, False),
        ([], {}, False),
    ],
)
def test_readme_language(
    tmp_path: Path, args: list[str], env: dict[str, str], chinese: bool
) -> None:
    """--lang wins; otherwise the locale (LC_ALL, LC_MESSAGES, LANG) decides; English by default."""
    result = _new(tmp_path, args, env)
    assert result.exit_code == 0, result.output
    readme = _readme(tmp_path)
    assert readme.startswith("# shop\n")
    assert bool(CHINESE.search(readme.split("\n## ")[1])) is chinese
    assert "{{" not in readme


def test_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    """A language the scaffold has no README for is refused before anything is written."""
    result = _new(tmp_path, ["--lang", "fr"], {})
    assert result.exit_code == 2
    assert "Invalid value for '--lang': 'fr'" in result.output
    assert not (tmp_path / "shop").exists()


def test_both_readmes_share_commands_variables_and_sections() -> None:
    """The Chinese README has the English one's code blocks, variables and headings."""
    english = outline(template_files("en")[README])
    chinese = outline(template_files("zh-CN")[README])
    assert chinese == english
    assert len(english.code_blocks) >= 5
    assert "RAINBOND_LANG" in english.variables


def test_only_the_readme_is_localized() -> None:
    """Code and configuration files are the same in every language."""
    english, chinese = template_files("en"), template_files("zh-CN")
    assert english.keys() == chinese.keys()
    assert [key for key in english if english[key] != chinese[key]] == [README]


def test_locale_language() -> None:
    """POSIX locale names map to the README languages."""
    assert locale_language({"LANG": "zh_CN.GB18030"}) == "zh-CN"
    assert locale_language({"LANG": "zh_TW.UTF-8"}) == "en"
    assert locale_language({}) == "en"
