"""nox sessions: tests, lint (ruff), typing (mypy strict), and the longer suites."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11"]


def _pytest(session: nox.Session, *args: str) -> None:
    """Install the package with its test extras and run pytest with ``args``."""
    session.install("-e", ".[test,embedded]")
    session.run("python", "-m", "pytest", *args, *session.posargs)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit and integration tests (real Redis, SecantusDB child process), with branch coverage."""
    _pytest(session, "--cov", "--cov-report=term")


@nox.session(python=PYTHONS)
def unit(session: nox.Session) -> None:
    """Unit tests only: no sockets."""
    _pytest(session, "tests/unit")


@nox.session(python=PYTHONS)
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.6")
    paths = ["src", "tests", "sample_app", "bench", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session(python=PYTHONS)
def typing(session: nox.Session) -> None:
    """mypy --strict over the package, and the import-linter layer contracts."""
    session.install("-e", ".[test,embedded,dev]")
    session.run("mypy")
    session.run("lint-imports")


@nox.session(python=PYTHONS)
def fuzz(session: nox.Session) -> None:
    """Long schema and query-language fuzzing: 500 examples per operation."""
    session.env["RAINBOND_FUZZ_EXAMPLES"] = "500"
    _pytest(
        session,
        "tests/integration/test_schemathesis.py",
        "tests/integration/test_query_literals.py",
        "tests/unit/test_query_fuzz.py",
    )


@nox.session(python=PYTHONS)
def reliability(session: nox.Session) -> None:
    """Fault injection, load without loss and the security suite (real processes)."""
    _pytest(
        session,
        "-s",
        "tests/integration/test_faults.py",
        "tests/integration/test_load.py",
        "tests/integration/test_security.py",
    )
