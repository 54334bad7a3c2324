"""PgBouncer in transaction mode in front of the Postgres under test (`--db pgbouncer`).

The Postgres comes from the same chain as `--db postgres` (a URL, a container, a local
cluster); each cell still gets its own database there.  One PgBouncer per run serves
them all (`* =` routes every database name to the same name on the server): started
from the `pgbouncer` binary on PATH as a tracked child on 127.0.0.1 and a free port,
its config and auth file in a temp dir of its own, and stopped on every exit path like
the other children.  PgBouncer refuses to run as root, so as root it runs as the same
unprivileged user as a local cluster.

Only the target connects through PgBouncer: the harness's own work (schema, seed rows,
the checks after load, `pg_stat_activity`) goes to Postgres directly, since it needs a
session of its own.  The server's view of the target is then PgBouncer's server
connections, which carry the name of the client they last served.
"""

import getpass
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import URL

from ..leftovers import owned_temp_dir
from ..processes import ChildProcesses
from ..server import free_port
from .base import DatabaseUnavailable
from .local_cluster import LocalClusterUnavailable, unprivileged_user, wait_connectable
from .postgres import PostgresServer, open_postgres

BINARY = "pgbouncer"
READY_TIMEOUT_S = 10.0
# Server connections per database and user: above what the default load (16 users)
# keeps in transactions at once, and far below a server's max_connections.
POOL_SIZE = 20
# Client connections: a NullPool app opens one per request in flight.
MAX_CLIENTS = 400


def _quoted(value: str) -> str:
    """An auth file field: double quotes, an inner quote doubled."""
    return '"' + value.replace('"', '""') + '"'


def write_config(directory: Path, server: URL, port: int) -> Path:
    """pgbouncer.ini and its auth file.  A password in the server URL is both what the
    app gives PgBouncer (SCRAM) and what PgBouncer gives the server; without one, the
    server trusts loopback and so does PgBouncer."""
    user = server.username or getpass.getuser()
    auth_file = directory / "userlist.txt"
    auth_file.write_text(f"{_quoted(user)} {_quoted(server.password or '')}\n")
    config = directory / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={server.host or 'localhost'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "pool_mode = transaction\n"
        f"auth_type = {'scram-sha-256' if server.password else 'trust'}\n"
        f"auth_file = {auth_file}\n"
        f"default_pool_size = {POOL_SIZE}\n"
        f"max_client_conn = {MAX_CLIENTS}\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    return config


class PgBouncerServer:
    """A Postgres server whose cells' apps connect through PgBouncer."""

    backend = "postgresql"

    def __init__(self, postgres: PostgresServer, port: int, version: str) -> None:
        self.postgres = postgres
        self.port = port
        self.description = (
            f"{version} (pool_mode=transaction) on 127.0.0.1:{port} "
            f"in front of {postgres.description}"
        )
        self.server_version = f"{postgres.server_version}; {version}"

    def fresh_database(self, cell_id: str) -> AbstractContextManager[URL]:
        return self.postgres.fresh_database(cell_id)

    def app_url(self, url: URL) -> URL:
        """The app's way to a cell's database: through PgBouncer."""
        return url.set(host="127.0.0.1", port=self.port)


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatabaseUnavailable(f"pgbouncer skipped: {binary} did not run: {exc}") from None
    return out.stdout.splitlines()[0].strip() if out.stdout else "PgBouncer"


@contextmanager
def open_pgbouncer(
    postgres_url: str | None, children: ChildProcesses, workdir: Path
) -> Iterator[PgBouncerServer]:
    binary = shutil.which(BINARY)
    if binary is None:
        raise DatabaseUnavailable(
            "pgbouncer skipped: no pgbouncer on PATH (Debian: apt-get install pgbouncer)"
        )
    version = _version(binary)
    try:
        user = unprivileged_user()
    except LocalClusterUnavailable:
        raise DatabaseUnavailable(
            "pgbouncer skipped: running as root and no unprivileged user to run it"
        ) from None
    with open_postgres(postgres_url, children, workdir) as postgres:
        # Not inside the run's workdir: PgBouncer's user must be able to read it.
        root = owned_temp_dir("sessionbench-pgbouncer-")
        try:
            port = free_port()
            config = write_config(root, postgres.admin_url, port)
            if user is not None:
                for path in (root, config, root / "userlist.txt"):
                    shutil.chown(path, user)
            log_path = workdir / "pgbouncer.log"
            proc = children.spawn([binary, str(config)], log_path=log_path, user=user, cwd=root)
            try:
                server = PgBouncerServer(postgres, port, version)
                through = server.app_url(postgres.admin_url).set(drivername="postgresql")
                problem = wait_connectable(through, proc, log_path, READY_TIMEOUT_S)
                if problem:  # e.g. it refused the server's authentication
                    raise DatabaseUnavailable(f"pgbouncer skipped: {problem}")
                yield server
            finally:
                children.stop(proc)
        finally:
            shutil.rmtree(root, ignore_errors=True)
