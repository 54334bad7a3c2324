"""The pytest plugin on a user's service and its own tests (tests/plugin/project): each
mistake fails its test with the right finding, route and line; the healthy tests
pass; nothing changes for tests that do not ask; options come from pyproject.toml and
markers; bad options are one line."""

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest
from sqlalchemy import make_url

PROJECT = Path(__file__).parent / "project"
MAIN = PROJECT / "notes" / "main.py"
EXPORTS = PROJECT / "notes" / "exports.py"
ARGS = ("-p", "no:locust", "-p", "no:cacheprovider")

HEALTHY = [
    "test_create_and_read",
    "test_create_and_read_async",
    "test_list_in_a_rolled_back_transaction",
    "test_export_missing",
]
# test -> (finding kind, route, function, text of the line it must name; None: any line)
MISTAKES = {
    "test_read_v1": ("event-loop-blocking", "GET /v1/notes/{note_id}", "read_note_v1", "db.get"),
    "test_read_v1_async": (
        "event-loop-blocking",
        "GET /v1/notes/{note_id}",
        "read_note_v1",
        "db.get",
    ),
    "test_fingerprint": ("event-loop-blocking", "GET /fingerprint", "fingerprint", None),
    "test_fingerprint_async": ("event-loop-blocking", "GET /fingerprint", "fingerprint", None),
    "test_archive_missing": (
        "connection-leak",
        "POST /notes/{note_id}/archive",
        "archive_note",
        "db.get",
    ),
    "test_recent": ("session-leak", "GET /recent", "recent_notes", "db.scalars"),
    "test_create_v2": ("lost-write", "POST /v2/notes", "get_committing_db", "db.commit()"),
    "test_create_v2_async": ("lost-write", "POST /v2/notes", "get_committing_db", "db.commit()"),
    "test_count": ("engine-per-request", "GET /count", "count_notes", "db.scalar("),
    # An engine built in a lifespan (notes/exports.py).
    "test_export_missing_v1": (
        "connection-leak",
        "GET /v1/exports/{note_id}",
        "export_note_v1",
        "db.scalar(",
    ),
}


def line_in_main(function: str, text: str | None) -> str:
    """A pattern for "notes/main.py:N in function", N the line of `function` holding
    `text` (notes/exports.py for the functions defined there)."""
    source = EXPORTS if f"def {function}(" in EXPORTS.read_text() else MAIN
    name = f"notes/{source.name}"
    lines = source.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"(async )?def {function}\(", line))
    if text is None:
        return re.escape(name) + rf":\d+ in {function}"
    number = next(i for i in range(start, len(lines)) if text in lines[i]) + 1
    return re.escape(f"{name}:{number} in {function}")


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The user's project in pytester's directory, on a SQLite file there."""
    shutil.copytree(PROJECT, pytester.path, dirs_exist_ok=True)
    database = pytester.path / "notes.sqlite"
    monkeypatch.setenv("NOTES_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("NOTES_ASYNC_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    return pytester


def failures(result: pytest.RunResult) -> dict[str, str]:
    """Failed test name -> its failure text."""
    return {
        report.nodeid.rsplit("::", 1)[-1]: str(report.longrepr)
        for report in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        if report.failed
    }


def assert_named(text: str, kind: str, route: str, line: str) -> None:
    assert re.search(rf"sessionbench: {kind}: .*{re.escape(route)} at {line}", text), text


def test_without_the_plugin_the_tests_pass(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess(*ARGS)
    result.assert_outcomes(passed=len(HEALTHY) + len(MISTAKES))
    assert "sessionbench:" not in result.stdout.str()


def test_each_mistake_fails_its_test_with_route_and_line(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess(*ARGS, "--sessionbench")
    failed = failures(result)
    assert sorted(failed) == sorted(MISTAKES)
    for test, (kind, route, function, text) in MISTAKES.items():
        assert_named(failed[test], kind, route, line_in_main(function, text))
    result.assert_outcomes(passed=len(HEALTHY), failed=len(MISTAKES))


def test_the_marker_watches_the_tests_that_carry_it(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{
            "tests/test_marked": """
        import pytest

        pytestmark = pytest.mark.sessionbench

        def test_archive_marked(client):
            assert client.post("/notes/999999/archive").status_code == 404

        @pytest.mark.sessionbench(enabled=False)
        def test_archive_opted_out(client):
            assert client.post("/notes/999999/archive").status_code == 404
        """
        }
    )
    result = project.runpytest_inprocess(*ARGS)
    assert list(failures(result)) == ["test_archive_marked"]  # the rest are not watched


def test_pyproject_sets_defaults_and_a_marker_overrides_them(project: pytest.Pytester) -> None:
    with (project.path / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n[tool.sessionbench.pytest]\nblocking_ms = 5000\nleaks = false\n")
    project.makepyfile(
        **{
            "tests/test_override": """
        import pytest

        @pytest.mark.sessionbench(leaks=True)
        def test_archive_watched(client):
            assert client.post("/notes/999999/archive").status_code == 404
        """
        }
    )
    result = project.runpytest_inprocess(*ARGS, "--sessionbench")
    failed = failures(result)
    # CPU stalls under 5 s pass now, and leaks are off except where the marker turns
    # them on; a sync driver call on the loop fails whatever the stall threshold.
    assert "test_fingerprint" not in failed and "test_archive_missing" not in failed
    assert "test_recent" not in failed
    assert "connection-leak" in failed["test_archive_watched"]
    assert "event-loop-blocking" in failed["test_read_v1"]


@pytest.mark.parametrize(
    ("pyproject", "marker", "message"),
    [
        ("blockng_ms = 10", "", "sessionbench: unknown option 'blockng_ms' in [tool.sessionbench"),
        ("blocking_ms = -1", "", "sessionbench: blocking_ms in [tool.sessionbench.pytest] must"),
        ("", "(leaks='no')", "sessionbench: leaks in the marker of test_bad.py::test_x must"),
        ("", "(True)", "sessionbench: test_bad.py::test_x: the marker takes keywords only"),
    ],
)
def test_bad_options_are_one_line(
    project: pytest.Pytester, pyproject: str, marker: str, message: str
) -> None:
    with (project.path / "pyproject.toml").open("a") as file:
        file.write(f"\n[tool.sessionbench.pytest]\n{pyproject}\n")
    project.makepyfile(
        test_bad=f"import pytest\n\n@pytest.mark.sessionbench{marker}\ndef test_x():\n    pass\n"
    )
    result = project.runpytest_subprocess(*ARGS, "--sessionbench", "test_bad.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: {message}"), errors


def test_the_plugin_imports_nothing_until_asked(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            loaded = [m for m in ("sessionbench.targets.probes", "sessionbench.bench")
                      if m in sys.modules]
            print("LOADED:", loaded)
        """
    )
    (project.path / "tests" / "conftest.py").rename(project.path / "tests" / "fixtures.py")
    project.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = project.runpytest_subprocess(*ARGS, "-W", "error", "test_plain.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*LOADED: []"])


def fresh_database(admin_url: str, backend: str) -> Iterator[str]:
    """A database of its own on the server (dropped afterwards): its name."""
    name = f"sb_plugin_{uuid.uuid4().hex[:8]}"
    url = make_url(admin_url)
    if backend == "postgresql":
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    connect = {"host": url.host, "port": url.port or 3306, "user": url.username or "root"}
    with pymysql.connect(**connect, password=url.password or "") as conn:
        conn.cursor().execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        with pymysql.connect(**connect, password=url.password or "") as conn:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")


SERVER_TESTS = [
    "test_create_and_read",
    "test_read_v1",
    "test_read_v1_async",
    "test_archive_missing",
]


@pytest.mark.parametrize(
    ("env", "sync_driver", "async_driver"),
    [
        pytest.param(
            "SESSIONBENCH_POSTGRES_URL",
            "postgresql+psycopg",
            "postgresql+asyncpg",
            marks=pytest.mark.postgres,
            id="postgres",
        ),
        pytest.param(
            "SESSIONBENCH_MYSQL_URL",
            "mysql+pymysql",
            "mysql+aiomysql",
            marks=pytest.mark.mysql,
            id="mysql",
        ),
    ],
)
def test_a_sync_driver_blocking_in_c_code_is_caught_on_a_server(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    sync_driver: str,
    async_driver: str,
) -> None:
    admin_url = os.environ.get(env)
    if not admin_url:
        pytest.skip(f"{env} is not set")
    url = make_url(admin_url)
    databases = fresh_database(admin_url, url.get_backend_name())
    name = next(databases)
    try:
        for variable, driver in (
            ("NOTES_DATABASE_URL", sync_driver),
            ("NOTES_ASYNC_DATABASE_URL", async_driver),
        ):
            rendered = url.set(drivername=driver, database=name)
            monkeypatch.setenv(variable, rendered.render_as_string(hide_password=False))
        selected = [f"tests/test_notes.py::{test}" for test in SERVER_TESTS]
        result = project.runpytest_inprocess(*ARGS, "--sessionbench", *selected)
        failed = failures(result)
        assert sorted(failed) == sorted(SERVER_TESTS[1:])
        for test in SERVER_TESTS[1:]:
            kind, route, function, text = MISTAKES[test]
            assert_named(failed[test], kind, route, line_in_main(function, text))
    finally:
        next(databases, None)
