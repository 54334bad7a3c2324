import os

import pytest

POSTGRES_URL_ENV = "SESSIONBENCH_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    return url
