"""Another workspace's objects named inside an API body: every request-body property of the OpenAPI schema
whose name ends in _id/_ids or is a model's (idor.py), sent in an otherwise valid body with the id of the
same kind of row in another workspace, then with a made-up id (and, for a list, the foreign id beside one
of the workspace's own). Each is a 4xx whose errors name the property, never a 500, and no row comes to
point at the foreign object; the same body with the workspace's own ids is then accepted, so the refusal
was the id's.

Every query parameter of a GET named the same way (a list's filter) answers for a foreign id exactly as for
a made-up one. A property found in the schema without a valid body here fails
test_every_api_field_is_covered; one without a known model fails its own test.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.hostile.conftest import assert_clear_refusal
from tests.hostile.idor import SAMPLE_KEY, bare, model_of, names_an_object, references
from tests.hostile.test_api import resolve, schema
from tests.test_permissions import MISSING_ID, fill_api_path

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]

OPENS, CLOSES = "2026-03-21T10:00:00+00:00", "2026-03-28T10:00:00+00:00"
# A valid body per operation (by "METHOD path" after /w/{slug}, or "METHOD path property" when the
# property needs a body of its own), made from the workspace's own ids (`m`).
BODIES = {
    "POST /departments": lambda m: {"name": "Front desk", "members": [m["membership"]]},
    "PUT /departments/{department_id}": lambda m: {"name": "Quality", "members": [m["membership"]]},
    "POST /conversations/{conversation_id}/assign": lambda m: {"membership_id": m["membership"]},
    "POST /conversations/{conversation_id}/handoffs": lambda m: {
        "department_id": m["department"],
        "note": "",
    },
    "POST /posts": lambda m: {
        "title": "Осень",
        "campaign": m["post_campaign"],
        "variants": [{"channel": m["channel"], "text": "Скидка", "media": [m["asset"]]}],
    },
    "POST /listening/sources": lambda m: {"channel": m["channel2"], "interval_minutes": 60},
    "POST /contests channel": lambda m: {
        **{"title": "Розыгрыш", "channel": m["channel"], "post_external_id": "post-2"},
        **{"opens_at": OPENS, "closes_at": CLOSES},
    },
    "POST /contests variant": lambda m: {
        "title": "Розыгрыш",
        "variant": m["published_variant"],
        **{"opens_at": OPENS, "closes_at": CLOSES},
    },
    "PUT /contests/{contest_id} channel": lambda m: {"channel": m["channel"], "post_external_id": "post-2"},
    "PUT /contests/{contest_id} variant": lambda m: {"variant": m["published_variant"]},
    "POST /audience/services/map": lambda m: {"name": "Стрижка", "service_id": m["service"]},
    "POST /audience/segments": lambda m: {"name": "Мужчины", "services": [m["service"]]},
    "PUT /audience/segments/{segment_id}": lambda m: {"name": "Невесты", "services": [m["service"]]},
    "POST /keywords/clusters/merge": lambda m: {"clusters": [m["cluster"], m["cluster2"]]},
    "POST /keywords/clusters/{cluster_id}/split": lambda m: {"keywords": [m["keyword"]], "name": "Новый"},
    "POST /keywords/clusters/{cluster_id}/move": lambda m: {"keywords": [m["keyword"]], "name": "Другой"},
    "PUT /keywords/clusters/{cluster_id}/main": lambda m: {"keyword_id": m["keyword"]},
    "POST /ads/campaigns segment": lambda m: {
        **{"kind": "targeting", "name": "Таргет", "platform": "vk", "segment": m["segment"]},
        **{"daily_budget": 500, "title": "Стрижка", "text": "Рядом с домом"},
    },
    "POST /ads/campaigns post": lambda m: {
        **{"kind": "targeting", "name": "Таргет", "platform": "vk", "segment": m["segment"]},
        **{"post": m["approved_post"], "daily_budget": 500},
    },
    "POST /ads/campaigns clusters": lambda m: {
        **{"kind": "contextual", "name": "Поиск", "platform": "google", "clusters": [m["cluster"]]},
        "daily_budget": 500,
    },
}
BODIES["PUT /posts/{post_id}"] = BODIES["POST /posts"]


# The sample channel is a listening source already (in both workspaces), so a source is made from the
# second one, here and in the other workspace: a refusal must be for the workspace, not for that.
SAMPLE_OF = {"POST /listening/sources": "channel2"}


def api_fields() -> list[tuple[str, str, str]]:
    """(method, path, property) of every request-body property that names an object."""
    found = []
    for path, methods in schema()["paths"].items():
        for method, op in methods.items():
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
            for prop in properties(body.get("schema", {})):
                if names_an_object(".".join(prop), path):
                    found.append((method.upper(), path, ".".join(prop)))
    return sorted(set(found))


def properties(node: dict, path: tuple = ()):
    """Every property of a body schema, as a path: ("variants", "[]", "channel")."""
    node = resolve(node)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            yield from properties(option, path)
    for name, child in node.get("properties", {}).items():
        yield (*path, name)
        yield from properties(child, (*path, name))
    if "items" in node:
        yield from properties(node["items"], (*path, "[]"))


API_FIELDS = api_fields()


def body_key(method: str, path: str, prop: str) -> str | None:
    short = f"{method} {path[len('/api/w/{slug}') :]}"
    for key in (f"{short} {prop}", short):
        if key in BODIES:
            return key
    return None


def with_value(body: dict, prop: str, value) -> dict:
    """The body with the property at `prop` ("variants.[].channel": in every variant) set to `value`."""
    body = copy.deepcopy(body)
    head, _, rest = prop.partition(".")
    if rest.startswith("[]."):
        body[head] = [with_value(item, rest[3:], value) for item in body[head]]
    else:
        body[head] = value
    return body


def values_to_send(body: dict, prop: str, wrong: int) -> list:
    """The wrong id as the property takes it: alone, and in a list also beside a good one."""
    current = body
    for part in prop.split("."):
        current = current[0] if part == "[]" else current[part]
    if isinstance(current, list):
        return [[wrong], [*current[:1], wrong]]
    return [wrong]


@pytest.mark.parametrize("method,path,prop", API_FIELDS, ids=[f"{m} {p[13:]} {f}" for m, p, f in API_FIELDS])
def test_foreign_ids_in_api_bodies(owner, world, ids, settings, method, path, prop):
    settings.SMMDESK_PUBLIC_URL = "https://desk.example"  # contextual ads link to the public pages
    label = model_of(prop, path)
    key = body_key(method, path, prop)
    assert label in SAMPLE_KEY and key, f"{method} {path} {prop}: no model or no valid body in this module"
    url = fill_api_path(path[len("/api") :], world.cast.workspace.slug, ids.mine)
    body = BODIES[key](ids.mine)
    foreign = ids.theirs[SAMPLE_OF.get(key, SAMPLE_KEY[label])]

    def send(data):
        return owner.generic(method, url, json.dumps(data), content_type="application/json")

    for wrong in (foreign, MISSING_ID):
        for value in values_to_send(body, prop, wrong):
            before = references(label, foreign)
            response = send(with_value(body, prop, value))
            text = assert_clear_refusal(response)
            assert bare(prop) in text, (prop, value, response.status_code, text[:300])
            assert references(label, foreign) == before, (prop, "a row now points at the foreign id")
    response = send(body)
    assert response.status_code < 300, ("the valid body was refused", response.content[:400])


def api_queries() -> list[tuple[str, str]]:
    """(path, parameter) of every query parameter of a GET that names an object (a list's filter)."""
    return [
        (path, param["name"])
        for path, methods in schema()["paths"].items()
        for param in methods.get("get", {}).get("parameters", [])
        if param["in"] == "query" and names_an_object(param["name"], path)
    ]


API_QUERIES = api_queries()


@pytest.mark.parametrize("path,param", API_QUERIES, ids=[f"{p[13:]} {q}" for p, q in API_QUERIES])
def test_foreign_ids_in_api_queries(owner, world, ids, path, param):
    """A filter by another workspace's row answers exactly as by a made-up id: nothing of it shows."""
    label = model_of(param, path)
    assert label in SAMPLE_KEY, f"{path} ?{param}: tell tests/hostile/idor.py which model it names"
    url = fill_api_path(path[len("/api") :], world.cast.workspace.slug, ids.mine)
    foreign = owner.get(url, {param: ids.theirs[SAMPLE_KEY[label]]})
    made_up = owner.get(url, {param: MISSING_ID})
    assert foreign.status_code < 500 and foreign.status_code == made_up.status_code
    if foreign.status_code >= 400:
        # Refused alike, naming the parameter (the message quotes the id sent, so only fields compare).
        fields = [{e["field"] for e in r.json().get("errors", [])} for r in (foreign, made_up)]
        assert fields[0] == fields[1] and param in fields[0], fields
    else:
        assert foreign.content == made_up.content


def test_every_api_field_is_covered():
    """A new property naming an object, in a new or changed operation, needs a body here."""
    assert len(API_FIELDS) >= 20 and len(API_QUERIES) >= 10, (API_FIELDS, API_QUERIES)
    missing = [f"{m} {p} {f}" for m, p, f in API_FIELDS if not body_key(m, p, f) or not model_of(f, p)]
    assert not missing, f"tests/hostile/test_idor_api.py has no body (or idor.py no model) for {missing}"
    unused = set(BODIES) - {body_key(*field) for field in API_FIELDS}
    assert not unused, f"bodies for properties that are gone: {sorted(unused)}"
