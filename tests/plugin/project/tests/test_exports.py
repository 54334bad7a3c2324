from fastapi.testclient import TestClient
from notes.exports import app


def test_export_missing() -> None:
    with TestClient(app) as client:
        assert client.get("/exports/999999").status_code == 404


def test_export_missing_v1() -> None:
    with TestClient(app) as client:
        assert client.get("/v1/exports/999999").status_code == 404
