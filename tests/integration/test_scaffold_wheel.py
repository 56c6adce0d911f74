"""The proof: the built wheel's CLI scaffolds a project that installs anywhere, passes its own
tests and serves.

Builds the wheel from this checkout, installs it with its ``test`` and ``embedded`` extras
into a fresh virtual environment (pip uses its configured index and cache; nothing is
borrowed from this interpreter's site-packages), runs ``rainbond-kit -c demo_component``
(which vendors that installation as a wheel), then the generated README's commands as
written in another fresh virtual environment, where rainbond-kit can only come from the
vendored wheel (no index has it), then its Procfile command under gunicorn.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rainbond_kit.embedded import free_port
from tests.integration.deploy_support import start_web

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NAME = "demo_component"
INSTALL_TIMEOUT = 600


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment minus anything that points at servers or other interpreters."""
    drop = (
        "MONGODB_",
        "MONGO_",
        "REDIS_",
        "PORT",
        "_PORT",
        "WEB_CONCURRENCY",
        "PYTEST_",
        "RAINBOND_",
        "PROMETHEUS_",
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop) and k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    env.update(extra)
    return env


def _run(command: list[str], cwd: Path, what: str, timeout: float = INSTALL_TIMEOUT) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {result.returncode}): {shlex.join(command)}\n"
            "pip needs the package index configured for this machine, or a cache that the "
            "main install populated.\n"
            f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}",
            pytrace=False,
        )
    return result.stdout


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh virtual environment holding the wheel built from this checkout (no extras)."""
    base = tmp_path_factory.mktemp("scaffold")
    wheels = base / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        ROOT,
        "building the wheel",
    )
    (wheel,) = wheels.glob("rainbond_kit-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], base, "creating the virtual environment")
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], base, "installing the wheel")
    return venv / "bin"


@pytest.fixture(scope="module")
def project(venv_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``demo_component`` created by the installed wheel's ``rainbond-kit -c``."""
    workdir = tmp_path_factory.mktemp("work")
    output = _run([str(venv_bin / "rainbond-kit"), "-c", NAME], workdir, "rainbond-kit -c")
    assert output == (
        f"Successfully created `{NAME}` component. Run command:\n"
        f"$ cd {NAME}\n"
        "$ python3 -m venv .venv\n"
        "$ .venv/bin/pip install -r requirements-dev.txt\n"
        "$ .venv/bin/python app.py\n"
    )
    return workdir / NAME


def test_wheel_scaffold_contains_the_templates(project: Path) -> None:
    """The installed wheel (not this checkout) wrote every file, dotfiles included."""
    names = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert {".env.example", ".gitignore", "Procfile", "app.py", "gunicorn.conf.py"} <= names
    assert {"requirements.txt", "requirements-dev.txt", "README.md", "pytest.ini"} <= names
    assert {"tests/conftest.py", "tests/test_items_unit.py"} <= names
    assert "tests/test_items_integration.py" in names


def _readme_block(readme: str, heading: str) -> list[str]:
    """The command lines of the first code block after ``heading`` in the README."""
    section = readme.split(f"## {heading}\n", 1)[1]
    block = section.split("```\n", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def readme_install(project: Path) -> str:
    """Run the README's install commands as written (a fresh ``.venv`` in the project).

    Returns pip's output; ``project/.venv/bin`` is the component's environment afterwards.
    """
    install = _readme_block((project / "README.md").read_text(), "Run it locally")[:-1]
    return "".join(_run(["/bin/sh", "-c", command], project, command) for command in install)


@pytest.fixture
def component_bin(project: Path, readme_install: str) -> Path:
    """bin/ of the component's own virtual environment, made by the README's commands."""
    return project / ".venv" / "bin"


def test_readme_commands_install_from_the_vendored_wheel_and_pass_tests(
    project: Path, readme_install: str, component_bin: Path
) -> None:
    """In a fresh venv the README's commands install (rainbond-kit from vendor/), serve, test.

    rainbond-kit is on no package index: pip's ``Processing ./vendor/rainbond_kit-...`` line
    and the installed version prove it came from the wheel `rainbond-kit -c` vendored.
    """
    (wheel,) = (project / "vendor").glob("rainbond_kit-*.whl")
    readme = (project / "README.md").read_text()
    run_locally = _readme_block(readme, "Run it locally")
    assert run_locally == [
        "python3 -m venv .venv",
        ".venv/bin/pip install -r requirements-dev.txt",
        ".venv/bin/python app.py",
    ]
    assert f"Processing ./vendor/{wheel.name}" in readme_install, readme_install[-3000:]
    shown = _run(
        [str(component_bin / "python"), "-m", "pip", "show", "rainbond-kit"], project, "pip show"
    )
    assert "Version: " + wheel.name.split("-")[1] in shown
    assert "secantus" not in (project / "requirements.txt").read_text().lower()
    port = free_port()
    proc = subprocess.Popen(
        ["/bin/sh", "-c", f"exec {run_locally[-1]}"], cwd=project, env=_clean_env(_PORT=str(port)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready = _wait_ready(proc, f"http://127.0.0.1:{port}/readyz")
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=120)
    assert ready, stderr[-3000:]
    (test_command,) = _readme_block(readme, "Test it")
    output = _run(
        ["/bin/sh", "-c", f"{test_command} -p no:cacheprovider"], project, test_command, timeout=300
    )
    assert "5 passed" in output, output


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_python_app_py_serves_with_an_embedded_mongo(
    component_bin: Path, project: Path, stop: signal.Signals
) -> None:
    """The printed run command works: `python app.py` starts SecantusDB, serves, stops it on exit."""
    port = free_port()
    log = project.parent / f"app-py-{stop.name}.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [str(component_bin / "python"), "app.py"],
            cwd=project,
            env=_clean_env(PORT=str(port)),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            ready = _wait_ready(proc, f"http://127.0.0.1:{port}/readyz")
            status, item = _http("POST", f"http://127.0.0.1:{port}/api/v1/items", {"name": "pear"})
        finally:
            proc.send_signal(stop)
            returncode = proc.wait(timeout=120)  # generous: a loaded machine stops slowly
    output = log.read_text()
    assert ready, output[-3000:]
    assert (status, item["name"]) == (201, "pear")
    assert returncode == 0, output[-3000:]
    match = re.search(r"embedded MongoDB \(SecantusDB\) at mongodb://127\.0\.0\.1:(\d+)/", output)
    assert match, output[-3000:]
    assert (project / ".rainbond-kit" / "mongo-data").is_dir()
    with socket.socket() as sock:  # the embedded server stopped with the app
        assert sock.connect_ex(("127.0.0.1", int(match.group(1)))) != 0


def test_python_app_py_refuses_a_malformed_variable(component_bin: Path, project: Path) -> None:
    """`python app.py` with MONGODB_PORT=abc exits 2 naming the variable, no traceback."""
    result = subprocess.run(
        [str(component_bin / "python"), "app.py"],
        cwd=project,
        env=_clean_env(MONGODB_HOST="db", MONGODB_PORT="abc"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        "configuration error: MONGODB_PORT must be a port number (1-65535), got 'abc'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def _http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _wait_ready(proc: subprocess.Popen[str], url: str, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if _http("GET", url)[0] == 200:
                return True
        except (OSError, ValueError):  # not listening yet, or not JSON yet
            pass
        time.sleep(0.3)
    return False


@pytest.fixture
def served(component_bin: Path, project: Path, mongo_uri: str, mongo_db_name: str) -> Iterator[str]:
    """The Procfile's `web:` command running under a shell, on a free PORT; yields the base URL."""
    port = free_port()
    env = _clean_env(
        PATH=f"{component_bin}{os.pathsep}{os.environ['PATH']}",
        PORT=str(port),
        MONGODB_URI=mongo_uri,
        MONGODB_DB=mongo_db_name,
        WEB_CONCURRENCY="2",
    )
    proc = start_web(project, env)
    base = f"http://127.0.0.1:{port}"
    if not _wait_ready(proc, f"{base}/readyz"):
        proc.kill()
        _, stderr = proc.communicate(timeout=10)
        pytest.fail(f"gunicorn did not become ready:\n{stderr[-3000:]}", pytrace=False)
    try:
        yield base
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-3000:]
    assert "GET /readyz" in stdout  # access log on stdout, where Rainbond collects it
    assert f"Listening at: http://0.0.0.0:{port}" in stderr
    assert stderr.count("Booting worker with pid") == 2


def test_gunicorn_serves_the_generated_app(served: str) -> None:
    """Under the Procfile's gunicorn command: /readyz 200, items created (201) and listed."""
    status, ready = _http("GET", f"{served}/readyz")
    assert status == 200
    assert ready["checks"]["mongodb"] == "ok"
    assert _http("GET", f"{served}/healthz") == (200, {"status": "ok"})
    status, item = _http("POST", f"{served}/api/v1/items", {"name": "apple", "quantity": 3})
    assert status == 201
    assert (item["name"], item["quantity"]) == ("apple", 3)
    status, listed = _http("GET", f"{served}/api/v1/items")
    assert status == 200
    assert listed["total"] == 1
    assert listed["items"] == [item]
    status, error = _http("POST", f"{served}/api/v1/items", {"quantity": 1})
    assert status == 422
    assert "name" in error["errors"]["json"]
    status, spec = _http("GET", f"{served}/openapi.json")
    assert status == 200
    assert spec["info"]["title"] == NAME


def _metric_sums(url: str) -> dict[str, float]:
    """``/metrics`` as sample name -> the sum of its values over every label set."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = f"{sample.name}{sorted(sample.labels.items())}" if sample.labels else sample.name
            sums[key] = sums.get(key, 0.0) + sample.value
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
    return sums


def test_gunicorn_metrics_are_exact_across_the_two_workers(served: str) -> None:
    """Untouched scaffold, PROMETHEUS_MULTIPROC_DIR unset, 2 workers: /metrics counts every request.

    Each request closes its connection, so gunicorn spreads them over both workers; without
    the config's multiprocess directory each scrape would see one worker's counts only (and
    the process collectors, which multiprocess mode leaves out).
    """
    items = "[('method', 'GET'), ('route', '/api/v1/items'), ('status', '200')]"
    invalid = "[('method', 'POST'), ('route', '/api/v1/items'), ('status', '422')]"
    before = _metric_sums(served)
    rounds = 15
    for _ in range(rounds):
        assert _http("GET", f"{served}/api/v1/items")[0] == 200
        assert _http("POST", f"{served}/api/v1/items", {"quantity": 1})[0] == 422
    after = _metric_sums(served)
    assert (
        after[f"http_requests_total{items}"] - before.get(f"http_requests_total{items}", 0)
        == rounds
    )
    assert (
        after[f"http_requests_total{invalid}"] - before.get(f"http_requests_total{invalid}", 0)
        == rounds
    )
    assert after["http_requests_in_flight"] == 0
    assert after["rainbond_kit_info"] == 1  # written by the master while preloading
    assert "process_cpu_seconds_total" not in after  # multiprocess mode
