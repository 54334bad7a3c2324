"""One cell whose target is the user's app: database, schema, the app under the wrapper,
its load (locustfile, requests file or OpenAPI mix), the probes' readings, diagnosis.

The same steps as a built-in target's cell (`runner.run_cell`) where they apply; a
user's app has no route contract, so the contract's database checks (rollback of
GET /fail, acknowledged writes) are not made.
"""

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import URL
from sqlalchemy.exc import SQLAlchemyError

from sessionbench.app_info import AppError, AppInfo
from sessionbench.errors import CellError, InfrastructureError, UsageError
from sessionbench.results import (
    AppRun,
    CellConfig,
    CellResult,
    ClientError,
    Diagnostics,
    LoadResult,
)
from sessionbench.scenarios.catalogue import LOCUSTFILE
from sessionbench.scenarios.mix import CLIENT_ERRORS_ENV, Mix
from sessionbench.scenarios.openapi_mix import OpenApiError, mix_from_openapi
from sessionbench.targets.probes import PROBE_PATH

from ..databases.base import DatabaseServer, first_line, pooled
from ..databases.given import GivenDatabase
from ..diagnosis import diagnose
from ..loadgen import drive
from ..matrix import Cell
from ..processes import ChildProcesses, tail
from ..runner import diagnostics_of, quiesce
from ..sampler import Sampler, ServerView
from ..server import RunningTarget, StartupFailed, running_server
from ..urls import driver_for, mask, with_driver
from ..worker_probes import probe_source, worker_readings
from .pools import pool_settings
from .routes import check_routes
from .schema_child import URL_ENV
from .spec import INFO_PATH, AppSpec
from .target import AppTarget
from .wrapper import LOAD_ERROR, LOAD_ERROR_EXIT

WRAPPER_FACTORY = "sessionbench.bench.ownapp.wrapper:create_app"
APP_LOCUSTFILE = LOCUSTFILE.with_name("app_locustfile.py")
SCHEMA_TIMEOUT_S = 120.0
INFO_TIMEOUT_S = 10.0


def load_error(log_path: Path) -> str | None:
    """The one-line load error a child printed before exiting with LOAD_ERROR_EXIT."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    found = [line.removeprefix(LOAD_ERROR) for line in lines if line.startswith(LOAD_ERROR)]
    return found[-1] if found else None


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Failure)\b.*")


def startup_error(log_path: Path, exc: StartupFailed) -> str:
    """The app's own exception, from the end of its traceback, on one line."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    raised = [line for line in lines if EXCEPTION_LINE.match(line)]
    return f"the app's start-up failed: {raised[-1]}" if raised else str(exc)


def _client_errors(path: Path) -> list[ClientError]:
    try:
        return [ClientError.model_validate(e) for e in json.loads(path.read_text())]
    except (OSError, ValueError, ValidationError):
        return []


def _tasks(mix: Mix | None) -> dict[str, int]:
    return {op.name: op.weight for op in mix.operations} if mix else {"locustfile": 1}


class AppCellRunner:
    """`RunPlan.run_cell` for the user's app."""

    def __init__(self, target: AppTarget) -> None:
        self.target = target

    def _config(self, cell: Cell, url: str, app: AppRun) -> CellConfig:
        return CellConfig(
            id=cell.id, strategy=cell.strategy.name, database=cell.database.name,
            driver=cell.driver, database_url=url, pool=cell.pool, scenario=cell.scenario.name,
            users=cell.users, duration_s=cell.duration_s, tasks={}, slow_ms=0, app=app,
            target_workers=cell.target_workers,
        )  # fmt: skip

    def __call__(
        self, cell: Cell, server: DatabaseServer, children: ChildProcesses, celldir: Path
    ) -> CellResult:
        started, clock = datetime.now(UTC), time.monotonic()
        target = self.target
        app_run = AppRun(
            import_string=target.spec.import_string, url_env=target.url_env,
            schema_from=target.schema_from, load=target.load_label, probes=cell.probes,
        )  # fmt: skip
        config = self._config(cell, "", app_run)
        # Per cell, so one plan can alternate probes on and off (`calibrate probes --app`).
        spec = target.spec.model_copy(
            update={
                "application_name": f"sessionbench-{cell.strategy.name}"[:63],
                "probes": cell.probes,
            }
        )
        try:
            if target.remote_url is not None:
                database = server.url if isinstance(server, GivenDatabase) else None
                config = self._config(cell, mask(database) if database else "", app_run)
                load, diagnostics, info, mix, spec = self._remote(cell, database, children, celldir)
            else:
                with server.fresh_database(cell.slug) as url:
                    # A URL given verbatim keeps its driver; a provisioned one gets --driver.
                    # The schema goes to the database, the app through a pooler if any.
                    direct = (
                        url if isinstance(server, GivenDatabase) else with_driver(url, cell.driver)
                    )
                    app_url = (
                        direct
                        if isinstance(server, GivenDatabase)
                        else with_driver(pooled(server, url), cell.driver)
                    )
                    config = self._config(cell, mask(app_url), app_run)
                    self._schema(direct, children, celldir)
                    env = {
                        **spec.to_env(),
                        target.url_env: app_url.render_as_string(hide_password=False),
                    }
                    with running_server(
                        WRAPPER_FACTORY, env, children, celldir,
                        ready_path=PROBE_PATH if spec.probes else "/openapi.json",
                        timeout_s=target.startup_timeout_s, workers=cell.target_workers,
                    ) as running:  # fmt: skip
                        mix = self._mix(running)
                        load, diagnostics, info = self._measure(
                            cell, url, running, children, celldir, spec, mix
                        )
        except StartupFailed as exc:
            message = (
                load_error(celldir / "target.log") if exc.exit_code == LOAD_ERROR_EXIT else None
            )
            if message:
                raise UsageError(message) from None
            return self._error(config, startup_error(celldir / "target.log", exc), started, clock)
        except (CellError, InfrastructureError, SQLAlchemyError) as exc:
            error = (
                f"database error: {first_line(exc)}"
                if isinstance(exc, SQLAlchemyError)
                else str(exc)
            )
            return self._error(config, error, started, clock)
        app_run = app_run.model_copy(
            update={
                "load": mix.source if mix else f"locustfile {target.locustfile}",
                "skipped_operations": mix.skipped if mix else [],
                "engines": info.engines if info else [],
                "engines_seen": info.engines_seen if info else 0,
                "probes": spec.probes,
            }
        )
        config = config.model_copy(
            update={"app": app_run, "pool": pool_settings(info), "tasks": _tasks(mix)}
        )
        result = CellResult(
            config=config, status="ok", load=load, diagnostics=diagnostics,
            started_at=started, wall_s=time.monotonic() - clock,
        )  # fmt: skip
        result.findings = diagnose(result)
        return result

    @staticmethod
    def _error(config: CellConfig, error: str, started: datetime, clock: float) -> CellResult:
        return CellResult(
            config=config, status="error", error=error, started_at=started,
            wall_s=time.monotonic() - clock,
        )  # fmt: skip

    def _schema(self, app_url: URL, children: ChildProcesses, celldir: Path) -> None:
        target = self.target
        if target.alembic_ini is not None:
            argv, url, cwd = (
                ["alembic", str(target.alembic_ini)],
                app_url,
                target.alembic_ini.parent,
            )
        elif target.metadata is not None:
            sync = with_driver(app_url, driver_for(app_url.get_backend_name(), "sync"))
            argv, url, cwd = ["metadata", target.metadata], sync, None
        else:
            return
        log_path = celldir / "schema.log"
        env = {
            URL_ENV: url.render_as_string(hide_password=False),
            target.url_env: app_url.render_as_string(hide_password=False),
        }
        proc = children.spawn(
            [sys.executable, "-m", "sessionbench.bench.ownapp.schema_child", *argv,
             target.spec.app_dir or ""],
            log_path=log_path, env=env, cwd=cwd,
        )  # fmt: skip
        try:
            code = proc.wait(timeout=SCHEMA_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise CellError(f"schema not built after {SCHEMA_TIMEOUT_S:.0f} s") from None
        finally:
            children.stop(proc)
        if code == LOAD_ERROR_EXIT and (message := load_error(log_path)):
            raise UsageError(message)
        if code != 0:
            raise CellError(f"schema ({target.schema_from}) failed: {tail(log_path, 3)}")

    def _remote(
        self, cell: Cell, database: URL | None, children: ChildProcesses, celldir: Path
    ) -> tuple[LoadResult, Diagnostics | None, AppInfo | None, Mix | None, AppSpec]:
        """An app running elsewhere: the outside view, the database's view when its URL and
        the app's application_name are known, and the probes if the app installed them."""
        base_url = str(self.target.remote_url).rstrip("/")
        _wait_answering(base_url, self.target.startup_timeout_s)
        spec = self.target.spec.model_copy(
            update={
                "probes": _answers(f"{base_url}{PROBE_PATH}"),
                "application_name": self.target.remote_application_name or "",
            }
        )
        running = RunningTarget(
            base_url=base_url, pid=0, log_path=celldir / "target.log", poll=lambda: None
        )
        mix = self._mix(running)
        view = database if self.target.remote_application_name else None
        return (*self._measure(cell, view, running, children, celldir, spec, mix), mix, spec)

    def _mix(self, running: RunningTarget) -> Mix | None:
        """The request mix; None when the user's locustfile drives the load."""
        if self.target.locustfile is not None:
            return None
        document = _openapi(running.base_url)
        if self.target.requests is not None:
            if isinstance(document, dict):
                check_routes(self.target.requests, document)
            return self.target.requests
        if isinstance(document, str):
            raise CellError(f"cannot derive a load from the app: {document}")
        try:
            return mix_from_openapi(document)
        except OpenApiError as exc:
            raise CellError(f"cannot derive a load from the app's OpenAPI schema: {exc}") from None

    def _measure(
        self, cell: Cell, url: URL | None, running: RunningTarget, children: ChildProcesses,
        celldir: Path, spec: AppSpec, mix: Mix | None,
    ) -> tuple[LoadResult, Diagnostics | None, AppInfo | None]:  # fmt: skip
        server_view = ServerView(url, spec.application_name)
        probes = probe_source(running)
        errors_file = celldir / "client-errors.json"
        env = {**(mix.to_env() if mix else {}), CLIENT_ERRORS_ENV: str(errors_file)}
        locustfile = (self.target.locustfile or APP_LOCUSTFILE).resolve()
        final, info, quiesce_s, workers = None, None, 0.0, []
        try:
            with Sampler(probes, server_view, running.pids) as sampler:
                load = drive(
                    running.base_url, cell.scenario, cell.users, cell.duration_s, children,
                    celldir, extra_env=env, locustfile=locustfile,
                )  # fmt: skip
            load = load.model_copy(update={"target_cpu_s": sampler.target_cpu_s})
            running.ensure_alive()
            if spec.probes:
                quiesce_s = quiesce(probes)
                final = probes.read(final=True)
                info = _app_info(running)
                workers = worker_readings(probes, server_view)
            server_after = server_view.read()
        finally:
            server_view.close()
            probes.close()
        load = load.model_copy(update={"client_errors": _client_errors(errors_file)})
        if final is None:
            return load, None, info
        diagnostics = diagnostics_of(final, probes, sampler, quiesce_s, server_after)
        diagnostics.app_errors = info.errors if info else []
        diagnostics.workers = workers
        return load, diagnostics, info


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=INFO_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_answering(base_url: str, timeout_s: float) -> None:
    """Any HTTP answer at all: the app is there."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(base_url + "/", timeout=2.0)
            return
        except httpx.HTTPError as exc:
            if time.monotonic() >= deadline:
                raise CellError(f"the app at {base_url} does not answer: {exc}") from None
        time.sleep(0.2)


def _openapi(base_url: str) -> dict[str, Any] | str:
    """The app's OpenAPI document, or why it could not be read."""
    try:
        response = httpx.get(f"{base_url}/openapi.json", timeout=INFO_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return f"GET /openapi.json failed: {exc}"
    if response.status_code != 200:
        return f"GET /openapi.json answered {response.status_code}"
    try:
        document = response.json()
    except ValueError:
        return "GET /openapi.json is not JSON"
    return document if isinstance(document, dict) else "GET /openapi.json is not a JSON object"


def _app_info(running: RunningTarget) -> AppInfo | None:
    """The app's engines and escaped exceptions; under several workers, every worker's
    exceptions (a request reached any one of them), the first worker's engines."""
    urls = [worker.base_url for worker in running.workers] or [running.base_url]
    infos = [info for url in urls if (info := _info(url)) is not None]
    if len(infos) < 2:
        return infos[0] if infos else None
    counts: dict[tuple[str, str], int] = {}
    for error in (error for info in infos for error in info.errors):
        key = (error.error, error.app_line)
        counts[key] = counts.get(key, 0) + error.count
    errors = [AppError(error=e, app_line=line, count=n) for (e, line), n in counts.items()]
    seen = sum(info.engines_seen for info in infos)
    return infos[0].model_copy(update={"errors": errors, "engines_seen": seen})


def _info(base_url: str) -> AppInfo | None:
    try:
        response = httpx.get(f"{base_url}{INFO_PATH}", timeout=INFO_TIMEOUT_S)
        return (
            AppInfo.model_validate_json(response.content) if response.status_code == 200 else None
        )
    except (httpx.HTTPError, ValidationError):
        return None
