"""The OpenAPI document at /api/openapi.json, and the server errors the fuzzer (test_api_fuzz.py) found,
each pinned here with a plain request."""

import inspect
import sys
from collections import defaultdict

import pytest
from pydantic import BaseModel

from smmdesk.api import MAX_OFFSET
from smmdesk.lib.crypto import token_hash

TOKEN = "schema-test-token-0123456789abcdefghijkl"
HUGE = 2**70


@pytest.fixture
def owner_api(cast, client):
    from smmdesk.accounts.models import ApiToken

    ApiToken.objects.create(
        user=cast.users["owner"], name="t", token_hash=token_hash(TOKEN), prefix=TOKEN[:10]
    )

    def call(method, path, **kwargs):
        send = getattr(client, method.lower())
        return send(f"/api/w/salon{path}", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **kwargs)

    return call


def field_errors(response):
    assert response.status_code == 422, response.content
    return {error["field"] for error in response.json()["errors"]}


def test_the_document_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    validate(document)  # raises, naming the offending part, when the document breaks the OpenAPI rules


def test_no_two_schema_classes_share_a_component_name(client):
    """django-ninja names a component after its class and keeps the last class of a name, so two
    `EventOut` classes made the document describe one operation's answer with another's fields."""
    document = client.get("/api/openapi.json").json()
    classes = defaultdict(set)
    for name, module in list(sys.modules.items()):
        if not name.startswith("smmdesk."):
            continue
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == name:
                classes[obj.__name__].add(f"{name}.{obj.__qualname__}")
    clashes = {
        component: sorted(classes[component])
        for component in document["components"]["schemas"]
        if len(classes[component]) > 1
    }
    assert clashes == {}


def test_the_media_library_refuses_an_offset_past_the_limit(owner_api):
    assert owner_api("GET", f"/media?offset={HUGE}").status_code == 422
    assert owner_api("GET", f"/media?offset={MAX_OFFSET}").json() == []


def test_the_entrant_list_refuses_an_offset_past_the_limit(owner_api, cast, time_machine):
    from smmdesk.accounts.models import Membership
    from smmdesk.contests import actions
    from smmdesk.contests.tests.conftest import NOW, contest_data, fake_channel

    time_machine.move_to(NOW, tick=False)
    manager = Membership.objects.get(workspace=cast.workspace, role="owner")
    contest = actions.create_contest(manager, contest_data(fake_channel(cast.workspace)))
    assert field_errors(owner_api("GET", f"/contests/{contest.pk}/entrants?offset={HUGE}")) == {"offset"}
    page = owner_api("GET", f"/contests/{contest.pk}/entrants?offset={MAX_OFFSET}").json()
    assert page["items"] == [] and page["offset"] == MAX_OFFSET


def test_a_volumes_file_with_a_stray_carriage_return_is_read_row_by_row(owner_api):
    # A bare CR ends a line, as in old Mac files: "hair" becomes a row of its own with no volume, which
    # the report names, and the good row is kept (this once gave a 500).
    from django.core.files.uploadedfile import SimpleUploadedFile

    damaged = SimpleUploadedFile("v.csv", b"query,volume\nhair\rcut,10\n", content_type="text/csv")
    response = owner_api("POST", "/keywords/volumes", data={"file": damaged})
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["added"] == 1
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "volume")]
