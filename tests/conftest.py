import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from sessionbench.bench.databases.local_cluster import LocalClusterUnavailable, local_cluster
from sessionbench.bench.processes import ChildProcesses

pytest_plugins = ["pytester"]  # the pytest plugin's tests run a user's project

POSTGRES_URL_ENV = "SESSIONBENCH_POSTGRES_URL"
MYSQL_URL_ENV = "SESSIONBENCH_MYSQL_URL"


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    return url


@pytest.fixture
def mysql_url() -> str:
    url = os.environ.get(MYSQL_URL_ENV)
    if not url:
        pytest.skip(f"{MYSQL_URL_ENV} is not set")
    return url


PASSWORD = "Sb-s3cret-8f2c1a"  # grepped for in every artefact of a run: must never appear


@pytest.fixture(scope="session")
def password_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway cluster whose TCP connections need PASSWORD (SCRAM): its URL."""
    with ChildProcesses() as children, ExitStack() as stack:
        try:
            url = stack.enter_context(
                local_cluster(children, tmp_path_factory.mktemp("cluster"), PASSWORD)
            )
        except LocalClusterUnavailable as exc:
            pytest.skip(f"no local Postgres binaries: {exc}")
        yield url.render_as_string(hide_password=False)
