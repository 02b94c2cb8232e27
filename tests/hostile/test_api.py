"""Every operation of the HTTP API (read from /api/openapi.json), with hostile values in every field its
schema declares (body and query), and with bodies that are not JSON objects at all.

Allowed answers: success, or a 4xx whose JSON says what is wrong (a 422 lists the fields). Never a 500,
and nothing PostgreSQL cannot store may be stored.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

from tests.corpus import bodies, strings
from tests.hostile.conftest import assert_clear_refusal, unstorable_rows
from tests.test_permissions import fill_api_path

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]

WRITES = ("post", "put", "patch", "delete")
BROKEN = {case.name: case.data for case in bodies.broken_json()}
BROKEN_SENT = (
    *("truncated", "nested_arrays", "nested_objects", "unclosed_nesting", "number_5000_digits"),
    *("invalid_utf8", "nul_byte_raw", "top_level_array", "top_level_null"),
)


@cache
def schema() -> dict:
    from smmdesk.api import api

    return api.get_openapi_schema()


def operations() -> list[tuple[str, str, dict]]:
    return [
        (method, path, op)
        for path, methods in schema()["paths"].items()
        for method, op in methods.items()
        if "{slug}" in path
    ]


OPS = operations()
IDS = [f"{method} {path[len('/api') :]}" for method, path, _op in OPS]


def resolve(node: dict) -> dict:
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def fill(node: dict, poison: str):
    """A value for the schema `node` with `poison` in every string; numbers past every column's range."""
    node = resolve(node)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [resolve(option) for option in node[key] if resolve(option).get("type") != "null"]
            return fill(options[0], poison) if options else None
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return {name: fill(child, poison) for name, child in node.get("properties", {}).items()}
    if kind == "array":
        return [fill(node.get("items", {}), poison)]
    if kind == "integer":
        return 10**30
    if kind == "number":
        return 1e308
    if kind == "boolean":
        return True
    return poison


def request_body(op: dict) -> dict | None:
    content = (op.get("requestBody") or {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def url(world, path: str) -> str:
    return fill_api_path(path[len("/api") :], world.cast.workspace.slug, world.mine)


def check(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400 and response.status_code not in (404, 405, 409):
        assert_clear_refusal(response)
    assert unstorable_rows() == []


POISONS = {
    "nul": strings.NUL,
    "lone_surrogate": strings.LONE_SURROGATE,
    "huge": strings.HUGE,
    "unicode_and_formula": strings.RTL_OVERRIDE + strings.EMOJI_ZWJ + strings.COMBINING + strings.FORMULAS[0],
    "dates_and_numbers": "99999-13-45T25:61:61+99:99",
}


@pytest.mark.parametrize("poison", list(POISONS))
@pytest.mark.parametrize("method,path,op", OPS, ids=IDS)
def test_hostile_fields(owner, world, method, path, op, poison):
    value = POISONS[poison]
    query = {p["name"]: value for p in op.get("parameters", []) if p["in"] == "query"}
    target = url(world, path)
    if query:
        check(owner.generic(method.upper(), target + "?" + _query(query)))
    body = request_body(op)
    if body is not None and method in WRITES:
        data = json.dumps(fill(body, value), ensure_ascii=True)
        check(owner.generic(method.upper(), target, data, content_type="application/json"))


def _query(values: dict) -> str:
    from urllib.parse import urlencode

    # urlencode needs UTF-8; a lone surrogate goes as the bytes a broken client would send.
    return urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in values.items()})


@pytest.mark.parametrize(
    "method,path,op",
    [o for o in OPS if request_body(o[2])],
    ids=[i for i, o in zip(IDS, OPS, strict=True) if request_body(o[2])],
)
def test_broken_bodies(owner, world, method, path, op):
    target = url(world, path)
    for name in BROKEN_SENT:
        response = owner.generic(method.upper(), target, BROKEN[name], content_type="application/json")
        assert response.status_code < 500, (name, response.content[:300])
        if name == "top_level_null" and response.status_code < 300:
            continue  # null is no body, and some operations need none
        assert 400 <= response.status_code < 500, (name, response.status_code)
        assert_clear_refusal(response, row_or_field=False)
