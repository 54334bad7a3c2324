"""Remote mode: an app already running (here on 127.0.0.1) is driven and measured, never
started; the inside view comes from the probes its authors installed."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from sessionbench.bench.server import free_port

pytestmark = pytest.mark.integration

APPS = Path(__file__).parents[1] / "apps"


def _measure_running_app(
    tmp_path: Path, database_url: str, *options: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], int]:
    """Start notes_probed on its own, as its deployment would; `sessionbench run
    --target-url` it; stop it.  The run's exit, its one cell, the app's port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "notes_probed:app", "--app-dir", str(APPS),
         "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "DATABASE_URL": database_url},
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
             "--output", str(tmp_path / "out"), *options],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    [cell] = json.loads((tmp_path / "out" / "results.json").read_text())["cells"]
    return result, cell, port


def test_an_app_running_elsewhere_is_measured_with_its_own_probes(tmp_path: Path) -> None:
    database = tmp_path / "notes.db"
    engine = create_engine(f"sqlite:///{database}")  # the schema, as its deployment made it
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, title VARCHAR(200), body TEXT)")
        )
    engine.dispose()
    _result, cell, port = _measure_running_app(tmp_path, f"sqlite+aiosqlite:///{database}")
    assert cell["config"]["strategy"] == f"127.0.0.1:{port}"
    assert cell["config"]["app"]["probes"] is True
    assert cell["load"]["requests"] > 0 and cell["load"]["failures"] == 0
    assert cell["diagnostics"]["final"]["requests"]["started"] >= cell["load"]["requests"]


@pytest.mark.postgres
def test_the_databases_view_of_an_app_running_elsewhere(tmp_path: Path, postgres_url: str) -> None:
    """With the database's URL and the app's application_name, the server's view of the
    app's connections is sampled; the database is used as it is, never created or dropped."""
    name = f"sb_remote_{uuid.uuid4().hex[:8]}"
    admin = make_url(postgres_url).set(drivername="postgresql+psycopg")
    server = create_engine(admin, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = admin.set(database=name)
    try:
        engine = create_engine(database)
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE notes (id SERIAL PRIMARY KEY, title VARCHAR(200), body TEXT)")
            )
        engine.dispose()
        app_url = database.update_query_dict({"application_name": "staging-notes"})
        _result, cell, _port = _measure_running_app(
            tmp_path, app_url.render_as_string(hide_password=False),
            "--database-url", database.render_as_string(hide_password=False),
            "--application-name", "staging-notes",
        )  # fmt: skip
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()
    assert cell["load"]["requests"] > 0 and cell["load"]["failures"] == 0
    seen = [s["server_connections"] for s in cell["diagnostics"]["samples"]]
    assert seen and max(c or 0 for c in seen) >= 1, seen
    assert cell["diagnostics"]["server_after"] is not None
