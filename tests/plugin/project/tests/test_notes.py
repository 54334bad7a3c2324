import httpx
import pytest
from fastapi.testclient import TestClient


def test_create_and_read(client: TestClient) -> None:
    created = client.post("/notes", json={"text": "milk"}).json()
    assert client.get(f"/notes/{created['id']}").json() == created
    assert created in client.get("/notes").json()


@pytest.mark.anyio
async def test_create_and_read_async(async_client: httpx.AsyncClient) -> None:
    created = (await async_client.post("/notes", json={"text": "eggs"})).json()
    assert (await async_client.get(f"/notes/{created['id']}")).json() == created


def test_list_in_a_rolled_back_transaction(transactional_client: TestClient) -> None:
    assert transactional_client.get("/notes").status_code == 200


def test_read_v1(client: TestClient) -> None:
    created = client.post("/notes", json={"text": "bread"}).json()
    assert client.get(f"/v1/notes/{created['id']}").status_code == 200


@pytest.mark.anyio
async def test_read_v1_async(async_client: httpx.AsyncClient) -> None:
    created = (await async_client.post("/notes", json={"text": "jam"})).json()
    assert (await async_client.get(f"/v1/notes/{created['id']}")).status_code == 200


def test_fingerprint(client: TestClient) -> None:
    assert len(client.get("/fingerprint").json()["fingerprint"]) == 64


@pytest.mark.anyio
async def test_fingerprint_async(async_client: httpx.AsyncClient) -> None:
    assert (await async_client.get("/fingerprint")).status_code == 200


def test_archive_missing(client: TestClient) -> None:
    assert client.post("/notes/999999/archive").status_code == 404


def test_recent(client: TestClient) -> None:
    assert client.get("/recent").status_code == 200
    assert client.get("/recent").status_code == 200


def test_create_v2(client: TestClient) -> None:
    assert client.post("/v2/notes", json={"text": "tea"}).status_code == 201


@pytest.mark.anyio
async def test_create_v2_async(async_client: httpx.AsyncClient) -> None:
    assert (await async_client.post("/v2/notes", json={"text": "tea"})).status_code == 201


def test_count(client: TestClient) -> None:
    assert client.get("/count").status_code == 200
    assert client.get("/count").status_code == 200
