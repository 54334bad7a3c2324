"""Postgres in a container through testcontainers, when a Docker engine answers."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, make_url

from .base import first_line

IMAGE_ENV = "SESSIONBENCH_POSTGRES_IMAGE"
DEFAULT_IMAGE = "postgres:16-alpine"


class DockerUnavailable(Exception):
    pass


def _docker_answers() -> None:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # the docker SDK raises many kinds; any means "no engine"
        raise DockerUnavailable(f"no Docker engine answers ({first_line(exc)})") from None


@contextmanager
def postgres_container() -> Iterator[URL]:
    _docker_answers()
    from testcontainers.postgres import PostgresContainer

    image = os.environ.get(IMAGE_ENV, DEFAULT_IMAGE)
    container = PostgresContainer(image, driver=None)
    try:
        container.start()
    except Exception as exc:  # image pull or start-up failure
        raise DockerUnavailable(f"container {image} did not start ({first_line(exc)})") from None
    try:
        yield make_url(container.get_connection_url())
    finally:
        container.stop()
