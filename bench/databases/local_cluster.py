"""A throwaway Postgres cluster from local server binaries, in a temp dir.

Postgres refuses to run as root, so when the harness is root the cluster belongs to
an unprivileged user (`postgres` if it exists, else `nobody`).  The server listens on
127.0.0.1 on a free port with its socket inside the temp dir; TCP connections need a
password (SCRAM, random per cluster), since any local user could reach the port.  The
cluster is stopped and removed on every exit path; after a SIGKILL of the harness the
server shuts down fast with it and the next run removes the directory.
"""

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import URL

from ..leftovers import owned_temp_dir
from ..processes import ChildProcesses, kill_group, tail
from ..server import free_port
from .base import StartedServer

READY_TIMEOUT_S = 30.0


class LocalClusterUnavailable(Exception):
    pass


def _version_key(bindir: str) -> tuple[int, ...]:
    return tuple(int(part) for part in Path(bindir).parent.name.split(".") if part.isdigit())


def find_bindir() -> Path:
    installed = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    for path in [*installed, *([os.path.dirname(on_path)] if on_path else [])]:
        if (Path(path) / "initdb").exists() and (Path(path) / "postgres").exists():
            return Path(path)
    raise LocalClusterUnavailable("no initdb/postgres binaries found")


def unprivileged_user() -> str | None:
    """Who runs a server that refuses root (Postgres, PgBouncer); None: the harness itself."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise LocalClusterUnavailable("running as root and no unprivileged user to own the cluster")


@contextmanager
def local_cluster(
    children: ChildProcesses, workdir: Path, password: str | None = None
) -> Iterator[URL]:
    with restartable_cluster(children, workdir, password) as cluster:
        yield cluster.url


@contextmanager
def restartable_cluster(
    children: ChildProcesses, workdir: Path, password: str | None = None
) -> Iterator[StartedServer]:
    bindir = find_bindir()
    user = unprivileged_user()
    password = password or secrets.token_urlsafe(16)
    # Not inside the run's workdir: the cluster's owner must be able to reach it.
    root = owned_temp_dir("sessionbench-pg-")
    try:
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if user is not None:
            shutil.chown(root, user)
            shutil.chown(pwfile, user)
        data = root / "data"
        initdb_log = workdir / "initdb.log"
        initdb = children.spawn(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
            log_path=initdb_log, user=user, cwd=root, death_signal=signal.SIGKILL,
        )  # fmt: skip
        try:
            code = initdb.wait()
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM): initdb's own `postgres` child would go on
            # writing into the directory removed below, and leave it behind.
            kill_group(initdb)
            raise
        finally:
            children.stop(initdb)
        pwfile.unlink()
        if code != 0:
            raise LocalClusterUnavailable(f"initdb failed: {tail(initdb_log, 2)[-200:]}")
        port = free_port()
        log_path = workdir / "postgres.log"
        url = URL.create("postgresql", username="postgres", password=password,
                         host="127.0.0.1", port=port, database="postgres")  # fmt: skip

        def start() -> subprocess.Popen[bytes]:
            proc = children.spawn(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "max_connections=300"],
                log_path=log_path, user=user, cwd=root, death_signal=signal.SIGQUIT,
            )  # fmt: skip
            _wait_ready(url, proc, log_path)
            return proc

        running = [start()]

        def stop_and_start() -> None:
            # Fast shutdown (SIGINT): sessions are terminated, as when a server is
            # restarted under its clients; SIGTERM's smart shutdown would wait for them.
            proc = running.pop()
            proc.send_signal(signal.SIGINT)
            children.stop(proc, grace_s=10.0)  # waits; kills only if it hangs
            running.append(start())

        # The kernel sends the parent-death signal when the *thread* that forked the
        # child ends: a server restarted from a short-lived thread (the fault injector's)
        # would die with it, so restarts run on one thread that lives as long as the
        # cluster.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cluster") as restarter:
            try:
                yield StartedServer(url, lambda: restarter.submit(stop_and_start).result())
            finally:
                for proc in running:
                    children.stop(proc, grace_s=10.0)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(url: URL, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    problem = wait_connectable(url, proc, log_path, READY_TIMEOUT_S)
    if problem:
        raise LocalClusterUnavailable(f"postgres {problem}")


def wait_connectable(
    url: URL, proc: subprocess.Popen[bytes], log_path: Path, timeout_s: float
) -> str | None:
    """None once a connection to a server child succeeds; else why not."""
    deadline = time.monotonic() + timeout_s
    conninfo = url.render_as_string(hide_password=False)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited: {tail(log_path, 2)}"
        try:
            psycopg.connect(conninfo, connect_timeout=2).close()
            return None
        except psycopg.OperationalError:
            time.sleep(0.2)
    return f"not ready after {timeout_s:.0f} s"
