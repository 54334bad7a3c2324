"""Postgres in a container through testcontainers, when a Docker engine answers.

sessionbench removes its own containers: on every exit it sees, and at the start of the
next run for a run that was killed outright (each container carries its owner in a
label, see bench/leftovers.py).  So testcontainers' reaper container (Ryuk), which
needs an image from a registry, is off unless TESTCONTAINERS_RYUK_DISABLED says
otherwise.  SESSIONBENCH_POSTGRES_IMAGE picks the image (scripts/build-postgres-image.sh
builds one without any registry).
"""

import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, make_url

from ..leftovers import Owner
from ..server import free_port
from .base import StartedServer, first_line

IMAGE_ENV = "SESSIONBENCH_POSTGRES_IMAGE"
DEFAULT_IMAGE = "postgres:16-alpine"
OWNER_LABEL = "io.sessionbench.owner"
RYUK_ENV = "TESTCONTAINERS_RYUK_DISABLED"


class DockerUnavailable(Exception):
    pass


def _unix_socket_refuses() -> str | None:
    """Why the engine's Unix socket cannot be reached, or None.  Checked with a socket
    of our own first: the docker SDK leaks the socket of a connection that fails."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return None
    path = host.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(3)
        try:
            probe.connect(path)
        except OSError as exc:
            return f"{path}: {exc.strerror or exc}"
    return None


def docker_client() -> Any:
    refused = _unix_socket_refuses()
    if refused is not None:
        raise DockerUnavailable(f"no Docker engine answers ({refused})")
    client = None
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
    except Exception as exc:  # the docker SDK raises many kinds; any means "no engine"
        if client is not None:
            client.close()  # its socket, else a ResourceWarning at garbage collection
        raise DockerUnavailable(f"no Docker engine answers ({first_line(exc)})") from None
    return client


def reap_containers() -> list[str]:
    """Remove sessionbench containers whose owning run has ended; their names."""
    try:
        client = docker_client()
    except DockerUnavailable:
        return []
    removed = []
    try:
        for container in client.containers.list(all=True, filters={"label": OWNER_LABEL}):
            owner = Owner.decode(container.labels.get(OWNER_LABEL, ""))
            if owner is not None and owner.is_gone():
                container.remove(force=True, v=True)
                removed.append(container.name)
    finally:
        client.close()
    return removed


def _prepare() -> None:
    docker_client().close()  # fail fast, with our own message, when no engine answers
    from testcontainers.core.config import testcontainers_config

    if RYUK_ENV not in os.environ:
        testcontainers_config.ryuk_disabled = True


RESTART_READY_S = 30.0


def _wait_listening(url: URL) -> None:
    """Until the server accepts TCP again; its first answers may still be "starting up",
    which the target meets as part of the restart."""
    deadline = time.monotonic() + RESTART_READY_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection((url.host or "127.0.0.1", url.port or 0), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise DockerUnavailable(f"the container did not listen again within {RESTART_READY_S:.0f} s")


@contextmanager
def _started(container: Any, image: str, port: int) -> Iterator[StartedServer]:
    """Start a labelled container, yield its URL and restart, and always stop it."""
    container.with_kwargs(labels={OWNER_LABEL: Owner.current().encode()})
    # A host port of our choosing, on loopback: one the engine picks is picked again on
    # a restart, and the target, which keeps its URL, would lose its server.
    container.ports[port] = ("127.0.0.1", free_port())
    try:
        try:
            container.start()
        except Exception as exc:  # image pull or start-up failure
            raise DockerUnavailable(
                f"container {image} did not start ({first_line(exc)})"
            ) from None
        url = make_url(container.get_connection_url())

        def restart() -> None:
            container.get_wrapped_container().restart(timeout=10)
            # The target keeps the URL it was given: a server back on another port is
            # not the same server to it.
            if int(container.get_exposed_port(port)) != url.port:
                raise DockerUnavailable("the container came back on another port")
            _wait_listening(url)

        yield StartedServer(url, restart)
    finally:
        container.stop()


@contextmanager
def postgres_container() -> Iterator[StartedServer]:
    _prepare()
    from testcontainers.community.postgres import PostgresContainer

    image = os.environ.get(IMAGE_ENV, DEFAULT_IMAGE)
    container = PostgresContainer(
        image, username="postgres", password=secrets.token_urlsafe(16), dbname="postgres",
        driver=None,
    )  # fmt: skip
    with _started(container, image, 5432) as started:
        yield started


MYSQL_IMAGE_ENV = "SESSIONBENCH_MYSQL_IMAGE"
DEFAULT_MYSQL_IMAGE = "mariadb:11"


@contextmanager
def mysql_container() -> Iterator[StartedServer]:
    _prepare()
    from testcontainers.community.mysql import MySqlContainer

    image = os.environ.get(MYSQL_IMAGE_ENV, DEFAULT_MYSQL_IMAGE)
    # root: each cell creates and drops its own database.
    container = MySqlContainer(image, username="root", password=secrets.token_urlsafe(16))
    with _started(container, image, 3306) as started:
        yield started
