"""The contests API: a whole contest through it, refusals as 409 (state) or 422 (input, naming the field),
a network failure as 502, roles and other workspaces' ids, and the proof it serves."""

import json

import pytest

from smmdesk.accounts import actions as account_actions
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.contests import proof
from smmdesk.contests.models import Contest
from smmdesk.contests.tests.conftest import ACCOUNT, POST, on_post, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cast, client):
    def call(method, path, body=None, role="smm_manager", slug="salon", user=None):
        user = user or cast.users[role]
        _token, raw = account_actions.create_api_token(user, "test")
        return client.generic(
            method.upper(),
            f"/api/w/{slug}/contests{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )

    return call


def body(channel, **fields):
    return {
        "title": "API giveaway",
        "channel": channel.pk,
        "post_external_id": POST,
        "opens_at": "2026-10-30T10:00:00",  # the business's wall clock
        "closes_at": "2026-11-10T20:00:00+05:00",
        "winners_count": 2,
        "comment_pattern": "участвую",
        "pseudonymisation": "hashed",
        **fields,
    }


def errors(response, status=422):
    assert response.status_code == status, (response.status_code, response.content[:400])
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_a_whole_contest_through_the_api(clock, api, channel):
    on_post([person(n) for n in range(1, 6)] + [person(9, text="hello")])
    created = api("post", "", body(channel))
    assert created.status_code == 201, created.content
    contest = created.json()
    assert contest["status"] == "draft" and contest["opens_at"] == "2026-10-30T05:00:00Z"
    assert contest["staff_accounts"] == [ACCOUNT] and contest["proof_url"].startswith("/contests/proof/")
    cid = contest["id"]
    opened = api("post", f"/{cid}/open").json()
    assert opened["status"] == "open" and len(opened["commitment"]) == 64 and opened["server_seed"] == ""
    assert api("post", f"/{cid}/collect").json() == {"new": 6, "seen": 6, "gone": 0, "eligible": 5}
    listed = api("get", f"/{cid}/entrants?eligible=false").json()
    assert listed["count"] == 1 and listed["items"][0]["reason_texts"] == [
        "comment doesn't match the pattern"
    ]
    closed = api("post", f"/{cid}/close").json()
    assert closed["status"] == "closed" and closed["eligible"] == 5
    assert (
        api("post", f"/{cid}/public-value", {"public_value": "1 2 3", "public_value_source": "Lotto"}).json()[
            "public_value"
        ]
        == "1 2 3"
    )
    drawn = api("post", f"/{cid}/draw").json()
    assert drawn["status"] == "drawn" and len(drawn["winners"]) == 2 and drawn["announcement_post_id"]
    document = api("get", f"/{cid}/proof")
    assert document.status_code == 200
    assert proof.verify(proof.load(json.dumps(document.json()))) == []
    assert [c["id"] for c in api("get", "", role="viewer").json()] == [cid]


def test_refusals_name_the_field_or_the_state(clock, api, channel):
    assert set(errors(api("post", "", {}))) >= {
        "title",
        "channel",
        "post_external_id",
        "opens_at",
        "closes_at",
    }
    refused = errors(
        api(
            "post",
            "",
            body(channel, closes_at="2026-10-01T10:00:00", comment_pattern="(x+)+", pattern_is_regex=True),
        )
    )
    assert refused == {
        "closes_at": "The contest must close after it opens.",
        "comment_pattern": "a repeat inside a repeat is not allowed, e.g. (a+)+",
    }
    assert "winners_count" in errors(api("post", "", body(channel, winners_count=0)))
    assert "opens_at" in errors(api("post", "", body(channel, opens_at="soon")))
    cid = api("post", "", body(channel)).json()["id"]
    assert errors(api("post", f"/{cid}/draw"), 409) == {"__all__": "Only a closed contest can be drawn."}
    assert errors(api("get", f"/{cid}/proof"), 409)
    api("post", f"/{cid}/open")
    assert errors(api("put", f"/{cid}", {"require_like": True}), 409) == {
        "require_like": "This can no longer be changed: the contest is open."
    }
    assert api("put", f"/{cid}", {"title": "Renamed"}).json()["title"] == "Renamed"
    assert errors(api("delete", f"/{cid}"), 409)
    on_post([person(1)])
    api("post", f"/{cid}/close")
    assert errors(api("post", f"/{cid}/public-value", {"public_value": "  "})) == {
        "public_value": "Enter the public value (for example a lottery draw's numbers)."
    }
    assert errors(api("post", f"/{cid}/draw")) == {"public_value": "Record the public value first."}


def test_a_network_failure_is_a_502_with_its_message(clock, api, channel):
    cid = api("post", "", body(channel)).json()["id"]
    api("post", f"/{cid}/open")
    FakeNetwork.account(ACCOUNT).revoked = True
    refused = errors(api("post", f"/{cid}/collect"), 502)
    assert "the access token was revoked" in refused["collect"]
    assert api("get", f"/{cid}").json()["collect_error"] == "the access token was revoked"


def test_disqualify_through_the_api(clock, api, channel):
    on_post([person(1), person(2)])
    cid = api("post", "", body(channel)).json()["id"]
    api("post", f"/{cid}/open")
    api("post", f"/{cid}/collect")
    entrant = api("get", f"/{cid}/entrants").json()["items"][0]
    path = f"/{cid}/entrants/{entrant['id']}"
    assert errors(api("post", f"{path}/disqualify", {"reason": ""})) == {
        "reason": "Say why this entrant is disqualified."
    }
    out = api("post", f"{path}/disqualify", {"reason": "a bot"}).json()
    assert out["eligible"] is False and out["reason_texts"] == ["disqualified: a bot"]
    assert api("post", f"{path}/disqualify", {"reason": "x"}, role="viewer").status_code == 403
    assert api("post", f"{path}/reinstate").json()["eligible"] is True


def test_roles_and_other_workspaces(clock, cast, api, channel):
    cid = api("post", "", body(channel)).json()["id"]
    assert api("post", "", body(channel), role="content_manager").status_code == 403
    assert api("post", f"/{cid}/open", role="viewer").status_code == 403
    assert api("get", f"/{cid}", role="viewer").status_code == 200
    assert api("get", f"/{cid}", user=cast.outsider).status_code == 404
    # The outsider's own workspace with this contest's id: not found.
    assert api("get", f"/{cid}", user=cast.outsider, slug="rival").status_code == 404
    assert Contest.objects.get(pk=cid).status == "draft"
