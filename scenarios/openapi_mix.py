"""A request mix derived from an app's OpenAPI schema, for apps without a scenario.

Every operation whose inputs sessionbench can fill joins the mix with weight 1: path
and query parameters of simple types (integer, number, string, boolean, enums), and a
JSON body from the schema's own examples or, failing those, generated from its JSON
Schema by jsf (JSON Schema Faker for Python; hypothesis-jsonschema, the other candidate,
fails on objects with the current Hypothesis).  Operations it cannot
fill (required headers or cookies, non-JSON bodies, array or object parameters) are
listed as skipped, with the reason.
"""

import json
from typing import Any

from jsf import JSF

from .mix import Mix, Operation

METHODS = ("get", "post", "put", "patch", "delete")
BODIES_PER_OPERATION = 20  # generated once, picked at random per request
# Ids and other integers without bounds: small positive numbers, as rows are numbered.
DEFAULT_INT_RANGE = (1, 100)
TEXT_LENGTH = 8


class Unfillable(Exception):
    pass


class OpenApiError(ValueError):
    pass


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return _resolve(node, document) if isinstance(node, dict) else {}


def _simple(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A generator for a parameter of a simple type."""
    schema = _resolve(schema, document)
    if "anyOf" in schema:  # Optional[X] in FastAPI: X or null
        kinds = [s for s in schema["anyOf"] if _resolve(s, document).get("type") != "null"]
        if len(kinds) == 1:
            return _simple(kinds[0], document)
    if "enum" in schema:
        return {"choice": list(schema["enum"])}
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "integer":
        low = int(schema.get("minimum", DEFAULT_INT_RANGE[0]))
        high = int(schema.get("maximum", max(low, DEFAULT_INT_RANGE[1])))
        return {"int": [low, high]}
    if kind == "number":
        return {"int": [int(schema.get("minimum", 0)), int(schema.get("maximum", 100))]}
    if kind == "boolean":
        return {"choice": [True, False]}
    if kind == "string":
        return {"text": max(int(schema.get("minLength", TEXT_LENGTH)), 1)}
    raise Unfillable(f"parameter of type {kind or 'unknown'}")


def _parameters(
    op: dict[str, Any], document: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    path: dict[str, Any] = {}
    query: dict[str, Any] = {}
    for param in op.get("parameters", []):
        param = _resolve(param, document)
        where, name = param.get("in"), str(param.get("name"))
        required = param.get("required", False)
        if where == "path":
            path[name] = _simple(param.get("schema", {}), document)
        elif where == "query" and required:
            query[name] = _simple(param.get("schema", {}), document)
        elif required:
            raise Unfillable(f"required {where} parameter {name!r}")
    return path, query


def _examples(media: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    if isinstance(media.get("examples"), dict):
        return [e["value"] for e in media["examples"].values() if "value" in e]
    if isinstance(schema.get("examples"), list):
        return list(schema["examples"])
    return []


def generate(schema: dict[str, Any], document: dict[str, Any], count: int) -> list[Any]:
    """`count` values for `schema`; its `#/components/schemas/` refs become `#/$defs/`,
    where jsf resolves them."""
    rooted = json.dumps(
        {"$defs": document.get("components", {}).get("schemas", {}), **schema}
    ).replace('"#/components/schemas/', '"#/$defs/')
    try:
        values = JSF(json.loads(rooted)).generate(count)
    except Exception as exc:  # an unsupported keyword or reference: not fillable
        raise Unfillable(f"cannot generate a body from its schema ({type(exc).__name__})") from None
    return list(values) if isinstance(values, list) else [values]


def _bodies(op: dict[str, Any], document: dict[str, Any]) -> list[Any]:
    body = _resolve(op.get("requestBody", {}), document)
    if not body:
        return []
    content = body.get("content", {})
    if "application/json" not in content:
        if not body.get("required", False):
            return []
        raise Unfillable(f"body of type {', '.join(content) or 'unknown'}")
    media = content["application/json"]
    schema = media.get("schema", {})
    return _examples(media, _resolve(schema, document)) or generate(
        schema, document, BODIES_PER_OPERATION
    )


def mix_from_openapi(document: Any) -> Mix:
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise OpenApiError("the OpenAPI schema has no 'paths' table")
    operations: list[Operation] = []
    skipped: list[str] = []
    for path, item in document["paths"].items():
        for method in METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if not isinstance(op, dict):
                continue
            name = f"{method.upper()} {path}"
            try:
                path_params, query = _parameters(op, document)
                operations.append(
                    Operation(
                        name=name, method=method.upper(), path=path, path_params=path_params,
                        query=query, bodies=_bodies(op, document),
                    )
                )  # fmt: skip
            except Unfillable as exc:
                skipped.append(f"{name}: {exc}")
    if not operations:
        raise OpenApiError(
            "no operation in the OpenAPI schema can be filled"
            + (f" ({'; '.join(skipped)})" if skipped else "")
        )
    return Mix(source="OpenAPI schema", operations=operations, skipped=skipped)
