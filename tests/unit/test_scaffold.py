"""The scaffold CLI: files written with the name substituted, exact output, safe refusals."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rainbond_kit import __version__
from rainbond_kit.cli import main
from rainbond_kit.observability import gunicorn as kit_gunicorn
from rainbond_kit.scaffold import NAME_RULE, ScaffoldError, render, template_files, vendor

EXPECTED_FILES = {
    ".env.example",
    ".gitignore",
    "Procfile",
    "README.md",
    "app.py",
    "gunicorn.conf.py",
    "pytest.ini",
    "requirements-dev.txt",
    "requirements.txt",
    "tests/conftest.py",
    "tests/test_items_auth.py",
    "tests/test_items_integration.py",
    "tests/test_items_unit.py",
}


WHEEL = f"vendor/rainbond_kit-{__version__}-py3-none-any.whl"


@pytest.fixture(autouse=True)
def fake_running_wheel(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Stand-in for the running rainbond-kit's wheel (tests/integration vendor the real one)."""
    wheel = tmp_path_factory.mktemp("wheel") / Path(WHEEL).name
    wheel.write_bytes(b"PK fake wheel")
    monkeypatch.setattr(vendor, "_running_wheel", lambda: wheel)
    return wheel


def _invoke(args: list[str], cwd: Path) -> Result:
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _success(name: str, shown: str | None = None) -> str:
    return (
        f"Successfully created `{name}` component. Run command:\n"
        f"$ cd {shown or name}\n"
        "$ python3 -m venv .venv\n"
        "$ .venv/bin/pip install -r requirements-dev.txt\n"
        "$ .venv/bin/python app.py\n"
    )


def test_templates_ship_every_file_including_dotfiles() -> None:
    """The package data holds the whole project, .env.example and .gitignore included."""
    assert {str(p) for p in template_files()} == EXPECTED_FILES


def test_new_writes_the_project_with_the_name_substituted(tmp_path: Path) -> None:
    """`new NAME` creates NAME/ with every file; the name and version are filled in."""
    result = _invoke(["new", "shop-api"], tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "shop-api"
    assert _files(root) == {*EXPECTED_FILES, WHEEL}
    assert (root / WHEEL).read_bytes() == b"PK fake wheel"
    for relative in EXPECTED_FILES:
        assert "{{" not in (root / relative).read_text(encoding="utf-8"), relative
    assert (root / "README.md").read_text().startswith("# shop-api\n")
    assert 'NAME = "shop-api"' in (root / "app.py").read_text()
    assert "MONGODB_DB=shop-api\n" in (root / ".env.example").read_text()
    assert 'proc_name = "shop-api"' in (root / "gunicorn.conf.py").read_text()
    requirements = [
        line for line in (root / "requirements.txt").read_text().splitlines() if line[:1] != "#"
    ]
    assert requirements == ["--find-links vendor", f"rainbond-kit=={__version__}", "gunicorn>=22"]
    dev = [
        line for line in (root / "requirements-dev.txt").read_text().splitlines() if line[:1] != "#"
    ]
    assert dev == [
        "-r requirements.txt",
        f"rainbond-kit[embedded]=={__version__}",
        "mongomock>=4.1",
        "pytest>=8",
    ]
    assert "secantus" not in (root / "requirements.txt").read_text().lower()
    assert (root / "Procfile").read_text() == "web: gunicorn app:app --config gunicorn.conf.py\n"
    assert 'pytest_plugins = ["rainbond_kit.testing"]' in (root / "tests/conftest.py").read_text()


def test_success_message_is_the_seeds(tmp_path: Path) -> None:
    """The output is exactly the seed's sentence followed by one `$ ` command per line."""
    result = _invoke(["new", "demo_component"], tmp_path)
    assert result.exit_code == 0
    assert result.output == _success("demo_component")


def test_dash_c_is_the_same_command(tmp_path: Path) -> None:
    """`rainbond-kit -c NAME` (the original spelling) creates the same project."""
    result = _invoke(["-c", "demo_component"], tmp_path)
    assert result.exit_code == 0
    assert result.output == _success("demo_component")
    assert _files(tmp_path / "demo_component") == {*EXPECTED_FILES, WHEEL}


def test_directory_option_chooses_the_parent(tmp_path: Path) -> None:
    """--directory DIR creates DIR/NAME and the printed `cd` names that path."""
    (tmp_path / "projects").mkdir()
    result = _invoke(["new", "svc", "--directory", "projects"], tmp_path)
    assert result.exit_code == 0
    assert result.output == _success("svc", "projects/svc")
    assert _files(tmp_path / "projects" / "svc") == {*EXPECTED_FILES, WHEEL}


def test_missing_parent_directory_is_refused(tmp_path: Path) -> None:
    """A --directory that does not exist is an error; nothing is created."""
    result = _invoke(["new", "svc", "--directory", "nowhere"], tmp_path)
    assert result.exit_code == 1
    assert result.output == "Error: parent folder 'nowhere' does not exist\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_existing_target_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    """An existing folder or file of that name is never overwritten: exit 1, clear message."""
    target = tmp_path / "demo"
    if kind == "folder":
        target.mkdir()
        (target / "app.py").write_text("mine\n")
        before = {p.name: p.read_text() for p in target.iterdir()}
    else:
        target.write_text("mine\n")
    result = _invoke(["new", "demo"], tmp_path)
    assert result.exit_code == 1
    assert result.output == (
        "Error: 'demo' already exists: choose another name or remove it (nothing was changed)\n"
    )
    if kind == "folder":
        assert {p.name: p.read_text() for p in target.iterdir()} == before
    else:
        assert target.read_text() == "mine\n"


@pytest.mark.parametrize(
    "name", ["1abc", "-x", "a b", "a/b", "..", "a.b", "", "名字", "x" * 65, "a;rm"]
)
@pytest.mark.parametrize("spelling", ["new", "-c"])
def test_invalid_names_are_refused(tmp_path: Path, name: str, spelling: str) -> None:
    """A name that is not letters/digits/_/- (not starting with a digit or -) is a usage error."""
    args = ["new", "--", name] if spelling == "new" else ["-c", name]
    result = _invoke(args, tmp_path)
    assert result.exit_code == 2
    assert f"{name!r} is not a valid component name: use {NAME_RULE}" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a", "_x", "Demo-Component_2", "x" * 64])
def test_valid_names_are_accepted(tmp_path: Path, name: str) -> None:
    """Letters, digits, `_` and `-`, up to 64 characters, are accepted."""
    assert _invoke(["new", name], tmp_path).exit_code == 0
    assert (tmp_path / name / "app.py").is_file()


def test_failed_write_removes_the_partial_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing fails half-way, the new folder is removed and the error is reported."""
    real_write = Path.write_text
    written: list[Path] = []

    def flaky_write(self: Path, *args: Any, **kwargs: Any) -> int:
        if written:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", flaky_write)
    result = _invoke(["new", "demo"], tmp_path)
    assert result.exit_code == 1
    assert "cannot write the component into 'demo'" in result.output
    assert "No space left on device" in result.output
    assert not (tmp_path / "demo").exists()


def test_help_explains_the_name_and_gives_examples(tmp_path: Path) -> None:
    """`new --help` states the naming rule and shows both spellings; the group lists `new`."""
    help_text = _invoke(["new", "--help"], tmp_path).output
    assert " ".join(NAME_RULE.split()) in " ".join(help_text.split())
    assert "rainbond-kit new demo_component" in help_text
    assert "rainbond-kit -c demo_component" in help_text
    assert "--directory" in help_text
    assert "new " in _invoke([], tmp_path).output


def test_render_refuses_unknown_tokens() -> None:
    """A template token with no value is an error, not silently left in a file."""
    assert render("# {{name}}", {"name": "x"}) == "# x"
    with pytest.raises(ScaffoldError, match=r"template token \{\{port\}\} has no value"):
        render("{{name}} {{port}}", {"name": "x"})


def _gunicorn_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> dict[str, Any]:
    for name in ("_PORT", "PORT", "WEB_CONCURRENCY", "MEMORY_SIZE", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    # the config prepares the metrics directory and sets the variable: keep both to this test
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setattr(kit_gunicorn, "_prepared", None)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "gunicorn.conf.py"
    if not config.exists():
        text = template_files()[PurePosixPath("gunicorn.conf.py")]
        config.write_text(render(text, {"name": "demo"}))
    return runpy.run_path(str(config))


def test_gunicorn_config_reads_port_and_sizes_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bind follows _PORT, then PORT (default 5000); workers = min(2*CPU+1, MB // 128), >= 1."""
    default = _gunicorn_settings(tmp_path, monkeypatch)
    assert default["bind"] == "0.0.0.0:5000"
    assert default["worker_class"] == "sync"
    assert (default["accesslog"], default["errorlog"]) == ("-", "-")
    assert default["preload_app"] is True
    assert default["timeout"] == 30
    assert default["graceful_timeout"] == 25
    cpus = default["cpu_count"]()
    small = _gunicorn_settings(tmp_path, monkeypatch, PORT="8080", MEMORY_SIZE="small")
    assert small["bind"] == "0.0.0.0:8080"
    both = _gunicorn_settings(tmp_path, monkeypatch, _PORT="8081", PORT="8080")
    assert both["bind"] == "0.0.0.0:8081"
    assert small["workers"] == min(2 * cpus + 1, 2)
    assert _gunicorn_settings(tmp_path, monkeypatch, MEMORY_SIZE="64")["workers"] == 1
    big = _gunicorn_settings(tmp_path, monkeypatch, MEMORY_SIZE="2048")
    assert big["workers"] == min(2 * cpus + 1, 16)
    assert _gunicorn_settings(tmp_path, monkeypatch, WEB_CONCURRENCY="7")["workers"] == 7


def test_gunicorn_config_wires_the_metrics_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config empties PROMETHEUS_MULTIPROC_DIR when read (before preload); hooks are the kit's."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"an earlier run")
    settings = _gunicorn_settings(tmp_path, monkeypatch)
    assert settings["child_exit"] is kit_gunicorn.child_exit
    assert settings["on_starting"] is kit_gunicorn.on_starting
    assert list(metrics.iterdir()) == []
    # what the master writes while preloading survives gunicorn's on_starting hook
    (metrics / "gauge_max_1.db").write_bytes(b"rainbond_kit_info")
    settings["on_starting"](None)
    assert [p.name for p in metrics.iterdir()] == ["gauge_max_1.db"]


def test_gunicorn_config_creates_a_metrics_directory_when_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROMETHEUS_MULTIPROC_DIR unset: a new private directory, named in the variable for workers."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.setattr(kit_gunicorn, "_prepared", None)
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(render(template_files()[PurePosixPath("gunicorn.conf.py")], {"name": "d"}))
    runpy.run_path(str(config))
    created = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    try:
        assert created.is_dir()
        assert created.name.startswith("rainbond-metrics-")
        assert list(created.iterdir()) == []
    finally:
        created.rmdir()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "abc"}, "PORT must be a port number (1-65535), got 'abc'"),
        ({"_PORT": "70000"}, "_PORT must be a port number (1-65535), got 70000"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY must be at least 1, got 0"),
    ],
)
def test_gunicorn_config_refuses_malformed_values(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    message: str,
) -> None:
    """A malformed _PORT/PORT or WEB_CONCURRENCY: one line naming it, exit code 2."""
    with pytest.raises(SystemExit) as info:
        _gunicorn_settings(tmp_path, monkeypatch, **env)
    assert info.value.code == 2
    assert capsys.readouterr().err == f"configuration error: {message}\n"


@pytest.mark.parametrize(
    ("line", "runtime", "dev"),
    [
        ("rainbond-kit==0.2.0", "rainbond-kit==0.2.0", "rainbond-kit[embedded]==0.2.0"),
        (
            "rainbond-kit @ git+https://git.example/kit.git@v1",
            "rainbond-kit @ git+https://git.example/kit.git@v1",
            "rainbond-kit[embedded] @ git+https://git.example/kit.git@v1",
        ),
        (
            "rainbond_kit[embedded] >=0.1",
            "rainbond_kit[embedded] >=0.1",
            "rainbond-kit[embedded]>=0.1",
        ),
    ],
)
def test_kit_requirement_replaces_the_vendored_wheel(
    tmp_path: Path, line: str, runtime: str, dev: str
) -> None:
    """--kit-requirement writes that line (extras added for development) and no vendor/."""
    result = _invoke(["new", "svc", "--kit-requirement", line], tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "svc"
    assert _files(root) == EXPECTED_FILES
    assert (root / "requirements.txt").read_text().splitlines()[1:] == [runtime, "gunicorn>=22"]
    assert dev in (root / "requirements-dev.txt").read_text().splitlines()


def test_kit_requirement_must_name_rainbond_kit(tmp_path: Path) -> None:
    """A line for another package is refused and nothing is written."""
    result = _invoke(["new", "svc", "--kit-requirement", "flask>=3"], tmp_path)
    assert result.exit_code == 1
    assert "--kit-requirement must be a requirement line for rainbond-kit" in result.output
    assert not (tmp_path / "svc").exists()


def test_unpackable_installation_names_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the running rainbond-kit cannot be packed, the error suggests --kit-requirement."""

    def broken() -> Path:
        raise vendor.VendorError("rainbond-kit is not installed (no package metadata)")

    monkeypatch.setattr(vendor, "_running_wheel", broken)
    result = _invoke(["new", "svc"], tmp_path)
    assert result.exit_code == 1
    assert "pass --kit-requirement" in result.output
    assert not (tmp_path / "svc").exists()


def test_generated_code_passes_ruff_with_default_settings(tmp_path: Path) -> None:
    """The generated Python is lint-clean and formatted under ruff's defaults (line 88)."""
    pytest.importorskip("ruff", reason="ruff comes with the dev extra")
    assert _invoke(["new", "x" * 64], tmp_path).exit_code == 0  # longest name, longest lines
    root = tmp_path / ("x" * 64)
    ruff = [sys.executable, "-m", "ruff"]
    check = [*ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP,SIM,RUF", "."]
    fmt = [*ruff, "format", "--isolated", "--check", "."]
    for command in (check, fmt):
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_generated_code_passes_mypy_strict(tmp_path: Path) -> None:
    """The generated app, gunicorn config and tests type-check under `mypy --strict`."""
    pytest.importorskip("mypy", reason="mypy comes with the dev extra")
    assert _invoke(["new", "typed"], tmp_path).exit_code == 0
    command = [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports"]
    command += ["--cache-dir", str(tmp_path / "cache"), "app.py", "gunicorn.conf.py", "tests"]
    result = subprocess.run(
        command, cwd=tmp_path / "typed", capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
