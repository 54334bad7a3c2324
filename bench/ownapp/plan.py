"""From the options of `run --app` to a run plan: one cell per database, run by
`AppCellRunner`.  Every option is checked here, before anything starts."""

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from sqlalchemy import URL

from sessionbench.errors import UsageError
from sessionbench.scenarios.catalogue import Scenario
from sessionbench.scenarios.user_scenarios import RequestsFileError, load_requests
from sessionbench.targets.config import PoolSettings, TargetConfig
from sessionbench.targets.registry import Strategy

from ..databases.catalogue import DATABASES, DatabaseKind, ProvisionOptions
from ..matrix import Cell
from ..runner import RunPlan
from ..urls import DRIVERS, parse_database_url
from .cell import AppCellRunner
from .spec import AppSpec
from .target import DEFAULT_URL_ENV, AppTarget

DEFAULT_USERS = 8
LOCUSTFILE_CHECK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class AppOptions:
    app: str | None  # None only with remote_url
    duration_s: float
    app_dir: Path | None = None
    factory: bool = False
    name: str | None = None
    url_env: str = DEFAULT_URL_ENV
    database_url: str | None = None
    drivers: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    alembic_ini: Path | None = None
    metadata: str | None = None
    locustfile: Path | None = None
    requests: Path | None = None
    users: int | None = None
    probes: bool = True
    startup_timeout_s: float = 30.0
    remote_url: str | None = None
    remote_application_name: str | None = None
    target_workers: int = 1  # the app's uvicorn worker processes


def app_options(
    settings: dict[str, Any], duration_s: float, startup_timeout_s: float, target_workers: int = 1
) -> AppOptions:
    """The merged command-line and pyproject settings of `run --app`."""
    return AppOptions(
        app=settings["app"], duration_s=duration_s, app_dir=settings["app_dir"],
        factory=bool(settings["factory"]), name=settings["name"], url_env=settings["url_env"],
        database_url=settings["database_url"], drivers=list(settings["driver"] or []),
        databases=list(settings["db"] or []), alembic_ini=settings["alembic_ini"],
        metadata=settings["metadata"], locustfile=settings["locustfile"],
        requests=settings["requests"], users=settings["users"], probes=bool(settings["probes"]),
        startup_timeout_s=startup_timeout_s, remote_url=settings["target_url"],
        remote_application_name=settings["application_name"], target_workers=target_workers,
    )  # fmt: skip


def _not_buildable(_config: TargetConfig) -> FastAPI:
    raise RuntimeError("a user's app is started by its import string, not built")


def _check_file(option: str, path: Path | None) -> None:
    if path is not None and not path.is_file():
        raise UsageError(f"{option} {path}: no such file")


def _check_import_string(option: str, value: str | None) -> None:
    if value is not None:
        module, _, attr = value.partition(":")
        if not module or not attr:
            raise UsageError(f'{option} {value!r}: use the form "module:attribute"')


def check_locustfile(path: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "sessionbench.bench.ownapp.locustfile_check", str(path)],
        capture_output=True, text=True, timeout=LOCUSTFILE_CHECK_TIMEOUT_S, check=False,
    )  # fmt: skip
    if checked.returncode != 0:
        lines = checked.stdout.strip().splitlines() or [f"locustfile {path} cannot be loaded"]
        raise UsageError(lines[-1])


def _driver(kind: DatabaseKind, drivers: list[str]) -> str:
    """The driver chosen for this backend, else its sync default."""
    offered = {d for flavour in DRIVERS[kind.backend].values() for d in flavour}
    chosen = [d for d in drivers if d in offered]
    return chosen[0] if chosen else DRIVERS[kind.backend]["sync"][0]


REMOTE = DatabaseKind("none", "none", "no database: the app runs elsewhere")


def _check_remote(options: AppOptions) -> None:
    url = urlsplit(options.remote_url or "")
    if url.scheme not in ("http", "https") or not url.netloc:
        raise UsageError(f"--target-url {options.remote_url!r}: use http://host:port")
    if options.databases or options.alembic_ini or options.metadata:
        raise UsageError(
            "--target-url measures an app running elsewhere: --db, --alembic-ini and "
            "--metadata do not apply"
        )


def app_plan(
    options: AppOptions, output_dir: Path, repeat: int, provision: ProvisionOptions
) -> RunPlan:
    if options.remote_url is not None:
        _check_remote(options)
    elif options.app is None:
        raise UsageError("give --app MODULE:ATTR, or --target-url for an app running elsewhere")
    _check_import_string("--app", options.app)
    _check_import_string("--metadata", options.metadata)
    if options.app_dir is not None and not options.app_dir.is_dir():
        raise UsageError(f"--app-dir {options.app_dir}: no such directory")
    _check_file("--alembic-ini", options.alembic_ini)
    _check_file("--locustfile", options.locustfile)
    _check_file("--requests", options.requests)
    if options.alembic_ini is not None and options.metadata is not None:
        raise UsageError("--alembic-ini and --metadata both build the schema: give one")
    if not options.url_env.isidentifier():
        raise UsageError(f"--url-env {options.url_env!r} is not an environment variable name")
    known = {d for flavours in DRIVERS.values() for flavour in flavours.values() for d in flavour}
    for driver in options.drivers:
        if driver not in known:
            raise UsageError(f"unknown driver {driver!r}; valid: {', '.join(sorted(known))}")
    if options.locustfile is not None:
        check_locustfile(options.locustfile)
    try:
        requests = load_requests(options.requests) if options.requests else None
    except RequestsFileError as exc:
        raise UsageError(str(exc)) from None
    given: URL | None = None
    if options.database_url is not None:
        if options.databases:
            raise UsageError("--database-url names the database: leave out --db")
        given = parse_database_url(options.database_url)
        kinds = [next(k for k in DATABASES if k.backend == given.get_backend_name())]
        provision = ProvisionOptions(given_url=given)
    elif options.remote_url is not None:
        kinds, provision = [REMOTE], ProvisionOptions(no_database=True)
    else:
        kinds = [DATABASES.get(n) for n in options.databases or ["sqlite"]]
    if options.target_workers > 1 and options.remote_url is not None:
        raise UsageError("--target-workers starts the app; an app at --target-url runs as it is")
    label = options.app or options.remote_url or ""
    name = options.name or (label if options.app else urlsplit(label).netloc)
    target = AppTarget(
        spec=AppSpec(
            import_string=label,
            app_dir=str(options.app_dir.resolve()) if options.app_dir else None,
            factory=options.factory,
            probes=options.probes,
        ),
        name=name,
        url_env=options.url_env,
        alembic_ini=options.alembic_ini.resolve() if options.alembic_ini else None,
        metadata=options.metadata,
        locustfile=options.locustfile,
        requests=requests,
        startup_timeout_s=options.startup_timeout_s,
        remote_url=options.remote_url,
        remote_application_name=options.remote_application_name,
    )
    strategy = Strategy(
        name=name, summary=f"your app {label}", api="sync",
        build_app=_not_buildable, tags=("app",),
    )  # fmt: skip
    users = options.users or DEFAULT_USERS
    scenario = Scenario(
        name=target.load_label, description=f"load from the {target.load_label}", users=users,
        tasks={},
    )  # fmt: skip
    cells = [
        Cell(
            strategy=strategy,
            database=kind,
            driver=(
                given.get_driver_name()
                if given
                else "remote"
                if kind is REMOTE
                else _driver(kind, options.drivers)
            ),
            pool=PoolSettings(name="app"),
            scenario=scenario,
            users=users,
            duration_s=options.duration_s,
            probes=options.probes,
            target_workers=options.target_workers,
        )
        for kind in kinds
    ]
    return RunPlan(
        cells=cells, output_dir=output_dir, provision=provision, repeat=repeat,
        run_cell=AppCellRunner(target),
    )  # fmt: skip
