"""Loads for a user's app: the requests file (errors name the entry) and the mix derived
from an OpenAPI schema (what can be filled joins, the rest is listed)."""

import random
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import FastAPI, Header
from pydantic import BaseModel

from sessionbench.bench.ownapp.routes import check_routes
from sessionbench.errors import UsageError
from sessionbench.scenarios.openapi_mix import OpenApiError, mix_from_openapi
from sessionbench.scenarios.user_scenarios import RequestsFileError, load_requests

GOOD = """
[[request]]
name = "read"
method = "get"
path = "/notes/{id}"
params = { id = { int = [1, 5] } }
expect = [200, 404]

[[request]]
method = "POST"
path = "/notes"
json = { title = { text = 6 }, tags = [{ choice = ["a", "b"] }] }
weight = 3
"""


def test_requests_file_becomes_a_mix(tmp_path: Path) -> None:
    path = tmp_path / "requests.toml"
    path.write_text(GOOD)
    mix = load_requests(path)
    read, write = mix.operations
    assert (read.name, read.method, read.weight, read.expect) == ("read", "GET", 1, [200, 404])
    assert write.name == "POST /notes" and write.weight == 3 and write.expect is None
    rng = random.Random(1)
    rendered = [read.render(rng)[0] for _ in range(50)]
    assert {int(p.rsplit("/", 1)[1]) for p in rendered} <= {1, 2, 3, 4, 5}
    _, _, body = write.render(rng)
    assert len(body["title"]) == 6 and body["tags"][0] in ("a", "b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[request]]\nname = "x"\nmethod = "FETCH"\npath = "/a"\n', "request 'x': method:"),
        ('[[request]]\nmethod = "GET"\npath = "a"\n', "request #1: path:"),
        ('[[request]]\nmethod = "GET"\npath = "/a/{id}"\n', "request #1: params must fill"),
        ('[[request]]\nmethod = "GET"\npath = "/a"\nweight = 0\n', "request #1: weight:"),
        ('[[request]]\nmethod = "GET"\npath = "/a"\nexpect = [99]\n', "request #1: expect:"),
        ('[[request]]\nmethod = "GET"\npath = "/a"\nquery = { n = { int = [5] } }\n',
         "request #1: query: bad generator"),
        ('[[request]]\nmethod = "GET"\npath = "/a"\nhedaers = {}\n', "request #1: hedaers:"),
        ('[[requests]]\nmethod = "GET"\n', "unknown table(s) requests"),
        ("[[request]\n", "cannot read requests file"),
        ('[[request]]\nmethod="GET"\npath="/a"\n[[request]]\nmethod="GET"\npath="/a"\n',
         "used twice: GET /a"),
    ],
)  # fmt: skip
def test_a_bad_requests_file_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "requests.toml"
    path.write_text(text)
    with pytest.raises(RequestsFileError, match=r"requests\.toml") as info:
        load_requests(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


class Note(BaseModel):
    title: str
    stars: int


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/notes/{note_id}")
    async def read(note_id: int) -> dict[str, int]:
        return {}

    @app.get("/search")
    async def search(q: str, page: int = 1) -> list[int]:
        return []

    @app.post("/notes")
    async def create(note: Note) -> dict[str, int]:
        return {}

    @app.get("/private")
    async def private(x_token: Annotated[str, Header()]) -> dict[str, int]:
        return {}

    return app


def test_openapi_mix_fills_what_it_can_and_lists_the_rest() -> None:
    mix = mix_from_openapi(_app().openapi())
    ops = {op.name: op for op in mix.operations}
    assert set(ops) == {"GET /notes/{note_id}", "GET /search", "POST /notes"}
    assert ops["GET /notes/{note_id}"].path_params == {"note_id": {"int": [1, 100]}}
    assert ops["GET /search"].query == {"q": {"text": 8}}  # page is optional: left out
    bodies = ops["POST /notes"].bodies
    assert bodies and all(Note.model_validate(b) for b in bodies)  # valid for the schema
    assert mix.skipped == ["GET /private: required header parameter 'x-token'"]


def test_a_schema_without_paths_or_fillable_operations_is_refused() -> None:
    with pytest.raises(OpenApiError, match="no 'paths'"):
        mix_from_openapi({"openapi": "3.1.0"})
    with pytest.raises(OpenApiError, match=r"no operation .* can be filled"):
        mix_from_openapi({"paths": {"/x": {"post": {"requestBody": {
            "required": True, "content": {"multipart/form-data": {}}}}}}})  # fmt: skip


def test_a_requested_route_the_app_lacks_is_named(tmp_path: Path) -> None:
    path = tmp_path / "requests.toml"
    entry = '[[request]]\nmethod = "{}"\npath = "/notes/{{id}}"\nparams = {{ id = 1 }}\n'
    path.write_text(entry.format("GET") + entry.format("DELETE"))
    mix = load_requests(path)
    with pytest.raises(UsageError, match=r"request 'DELETE /notes/\{id\}': the app has no route"):
        check_routes(mix, _app().openapi())
