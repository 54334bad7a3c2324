"""A request mix for a user's app: operations with weights and value generators.

Both the user's scenario file (`user_scenarios.py`) and the app's OpenAPI schema
(`openapi_mix.py`) become a `Mix`; the Locust user in `app_locustfile.py` reads it back
from `SESSIONBENCH_MIX`.  Pydantic and the standard library only: Locust's process
imports it.

Generators, anywhere in path parameters, query and JSON bodies, are one-key tables:
`{ int = [1, 200] }` (inclusive), `{ choice = ["a", "b"] }`, `{ text = 8 }` (random
letters).  Anything else is sent as written.
"""

import random
import string
from typing import Any

from pydantic import BaseModel, Field

ENV_VAR = "SESSIONBENCH_MIX"
CLIENT_ERRORS_ENV = "SESSIONBENCH_CLIENT_ERRORS"  # where Locust writes its 4xx counts
GENERATORS = ("int", "choice", "text")


class Operation(BaseModel):
    name: str  # "GET /items/{item_id}": the route's name in the results
    method: str
    path: str  # template: "/items/{item_id}"
    path_params: dict[str, Any] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    bodies: list[Any] = Field(default_factory=list)  # JSON bodies to pick from; [] = none
    weight: int = 1
    # Statuses that count as success.  None (a generated request): any answer below 400
    # succeeds, 4xx is counted apart (the generator guessed an id that is not there),
    # 5xx fails.
    expect: list[int] | None = None

    def render(self, rng: random.Random) -> tuple[str, dict[str, Any], Any]:
        """(path, query, body) for one request."""
        path = self.path.format(**{k: fill(v, rng) for k, v in self.path_params.items()})
        query = {k: fill(v, rng) for k, v in self.query.items()}
        body = fill(rng.choice(self.bodies), rng) if self.bodies else None
        return path, query, body


class Mix(BaseModel):
    source: str  # "requests file PATH" or "OpenAPI schema"
    operations: list[Operation]
    skipped: list[str] = Field(default_factory=list)  # "GET /x: why it could not be filled"

    def to_env(self) -> dict[str, str]:
        return {ENV_VAR: self.model_dump_json()}


def is_generator(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in GENERATORS


def fill(value: Any, rng: random.Random) -> Any:
    if is_generator(value):
        ((kind, arg),) = value.items()
        if kind == "int":
            return rng.randint(int(arg[0]), int(arg[1]))
        if kind == "choice":
            return rng.choice(arg)
        return "".join(rng.choices(string.ascii_letters, k=int(arg)))
    if isinstance(value, dict):
        return {k: fill(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, rng) for v in value]
    return value
