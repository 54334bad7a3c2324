"""Remote mode: an app already running (here on 127.0.0.1) is driven and measured, never
started; the inside view comes from the probes its authors installed."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from sessionbench.bench.server import free_port

pytestmark = pytest.mark.integration

APPS = Path(__file__).parents[1] / "apps"


def test_an_app_running_elsewhere_is_measured_with_its_own_probes(tmp_path: Path) -> None:
    database = tmp_path / "notes.db"
    engine = create_engine(f"sqlite:///{database}")  # the schema, as its deployment made it
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, title VARCHAR(200), body TEXT)")
        )
    engine.dispose()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "notes_probed:app", "--app-dir", str(APPS),
         "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/notes", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        result = subprocess.run(
            [sys.executable, "-m", "sessionbench", "run", "--target-url",
             f"http://127.0.0.1:{port}", "--duration", "2s", "--users", "2",
             "--output", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    [cell] = json.loads((tmp_path / "out" / "results.json").read_text())["cells"]
    assert cell["config"]["strategy"] == f"127.0.0.1:{port}"
    assert cell["config"]["app"]["probes"] is True
    assert cell["load"]["requests"] > 0 and cell["load"]["failures"] == 0
    assert cell["diagnostics"]["final"]["requests"]["started"] >= cell["load"]["requests"]
