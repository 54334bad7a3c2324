"""A user's app that cannot be run: one line, exit 2 for bad input or 1 for the cell's
error, the results file kept, nothing left running."""

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from ..test_cli import assert_one_line

pytestmark = pytest.mark.integration

APPS = Path(__file__).parents[1] / "apps"
BROKEN = APPS / "broken"


def run_app(output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = subprocess.run(
        [sys.executable, "-m", "sessionbench", "run", "--duration", "2s", "--users", "2",
         "--startup-timeout", "3s", "--output", str(output), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"left running: {left}"
    return result


CASES = [
    (["--app", "no_such_module:app", "--app-dir", str(BROKEN)], 2,
     'Could not import module "no_such_module"'),
    (["--app", "not_asgi:application", "--app-dir", str(BROKEN)], 2,
     'Attribute "application" not found in module "not_asgi"'),
    (["--app", "not_asgi:app", "--app-dir", str(BROKEN)], 2, "is not an ASGI app (got str)"),
    (["--app", "startup_fails:app", "--app-dir", str(BROKEN)], 1,
     "RuntimeError: cannot reach the cache at redis://cache:6379"),
    (["--app", "silent:app", "--app-dir", str(BROKEN)], 1, "target not ready after 3 s"),
    (["--app", "no_schema:app", "--app-dir", str(BROKEN)], 1,
     "cannot derive a load from the app: GET /openapi.json answered 404"),
    (["--app", "notes:app", "--app-dir", str(APPS), "--metadata", "notes:Nothing",
      "--driver", "aiosqlite"], 2, 'Attribute "Nothing" not found in module "notes"'),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "message"), CASES)
def test_an_app_that_cannot_run_gets_one_line(
    args: list[str], code: int, message: str, tmp_path: Path
) -> None:
    result = run_app(tmp_path / "out", *args)
    if code == 1:  # the cell's error: in the results, and summed up on stderr
        assert result.returncode == 1, result.stderr
        cells = json.loads((tmp_path / "out" / "results.json").read_text())["cells"]
        assert cells[0]["status"] == "error" and message in cells[0]["error"]
        assert "Traceback" not in result.stderr
    else:
        assert_one_line(result, code, message)
        assert (tmp_path / "out" / "results.json").exists()  # the run's file is kept


def test_a_requested_route_the_app_lacks_is_named(tmp_path: Path) -> None:
    requests = tmp_path / "requests.toml"
    requests.write_text('[[request]]\nname = "archive"\nmethod = "POST"\npath = "/archive"\n')
    result = run_app(
        tmp_path / "out", "--app", "notes:app", "--app-dir", str(APPS), "--metadata",
        "notes:Base", "--driver", "aiosqlite", "--requests", str(requests),
    )  # fmt: skip
    assert_one_line(result, 2, "request 'archive': the app has no route POST /archive")


def test_a_plain_asgi_app_runs_with_the_probes(tmp_path: Path) -> None:
    requests = tmp_path / "requests.toml"
    requests.write_text('[[request]]\nmethod = "GET"\npath = "/anything"\nexpect = [200]\n')
    result = run_app(
        tmp_path / "out", "--app", "plain_asgi:app", "--app-dir", str(BROKEN),
        "--requests", str(requests),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [cell] = json.loads((tmp_path / "out" / "results.json").read_text())["cells"]
    assert cell["load"]["requests"] > 0 and cell["load"]["failures"] == 0
    assert cell["diagnostics"]["final"]["requests"]["started"] >= cell["load"]["requests"]
