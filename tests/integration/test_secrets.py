"""A password never reaches the terminal, the logs, results.json or a report."""

import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_no_artefact_of_a_run_holds_the_database_password(
    tmp_path: Path, password_postgres: str
) -> None:
    out = tmp_path / "out"
    commands = [
        ["run", "-s", "async-session", "-s", "sync-threadpool", "--db", "postgres",
         "--postgres-url", password_postgres, "--scenario", "mixed", "--duration", "2s",
         "--users", "4", "--output", str(out)],
        ["report", str(out / "results.json"), "--format", "html", "--output", str(out / "r.html")],
        ["report", str(out / "results.json"), "--format", "md", "--output", str(out / "r.md")],
    ]  # fmt: skip
    printed = []
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-m", "sessionbench", *args],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        printed.append(done.stdout + done.stderr)
    artefacts = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.name for p in artefacts} >= {"results.json", "target.log", "r.html", "r.md"}
    assert PASSWORD in password_postgres  # the run really used a password-protected server
    assert not [text for text in printed if PASSWORD in text]
    assert not [p for p in artefacts if PASSWORD.encode() in p.read_bytes()]
