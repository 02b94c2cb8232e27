"""The ads API: building campaigns, reading and changing them and their ads, the limits check, the plan,
the export, statistics imports and the effectiveness report. Each with its role; bad input is a 422
naming the field; another workspace's ids are a 404."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smmdesk.ads.models import Campaign, StatRow
from smmdesk.ads.tests.a3_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def call(client, method, path, body=None, workspace="salon"):
    url = f"/api/w/{workspace}/ads/{path}"
    if body is not None:
        return client.generic(method.upper(), url, json.dumps(body), content_type="application/json")
    return getattr(client, method)(url)


def fields(response) -> set[str]:
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return {error["field"] for error in response.json()["errors"]}


@pytest.fixture
def contextual(built, login):
    client = login(built["cast"].users["owner"])
    body = {
        "kind": "contextual",
        "name": "Search",
        "platform": "google",
        "clusters": [c.pk for c in built["clusters"]],
    }
    response = call(client, "post", "campaigns", body)
    assert response.status_code == 201, response.content
    return client, response.json()


def test_build_read_list_and_delete(built, contextual):
    client, made = contextual
    assert len(made["ad_groups"]) == 2 and made["ad_groups"][0]["keywords"]
    assert made["ads"][0]["headlines"] and made["utm_campaign"] == "search"
    targeting = call(
        client, "post", "campaigns",
        {"kind": "targeting", "name": "VK women", "platform": "vk", "segment": built["segment"].pk, "daily_budget": 300},
    )  # fmt: skip
    assert targeting.status_code == 201 and targeting.json()["gender"] == "female"
    assert targeting.json()["daily_budget"] == 300
    assert [c["name"] for c in call(client, "get", "campaigns").json()] == ["VK women", "Search"]
    assert call(client, "get", f"campaigns/{made['id']}").json()["ad_groups"] == made["ad_groups"]
    assert call(client, "delete", f"campaigns/{made['id']}").status_code == 204
    assert not Campaign.objects.filter(pk=made["id"]).exists()


def test_bad_input_names_the_fields(built, login):
    client = login(built["cast"].users["owner"])
    assert fields(call(client, "post", "campaigns", {"name": "X"})) == {"kind"}
    refused = call(
        client, "post", "campaigns", {"kind": "targeting", "platform": "google", "segment": 999999}
    )
    assert fields(refused) == {"name", "platform", "segment"}
    refused = call(
        client, "post", "campaigns", {"kind": "contextual", "name": "Y", "platform": "google", "clusters": []}
    )
    assert fields(refused) == {"clusters"}
    assert not Campaign.objects.exists()


def test_update_campaign_and_ad(contextual):
    client, made = contextual
    changed = call(client, "patch", f"campaigns/{made['id']}", {"monthly_budget": "9000", "status": "ready"})
    assert changed.status_code == 200 and changed.json()["monthly_budget"] == 9000
    assert fields(call(client, "patch", f"campaigns/{made['id']}", {"assumptions": {"nonsense": 1}})) == {
        "assumptions"
    }
    ad = made["ads"][0]["id"]
    assert fields(call(client, "patch", f"ads/{ad}", {"headlines": ["x" * 31]})) == {"headlines.0"}
    changed = call(client, "patch", f"ads/{ad}", {"headlines": ["Стрижка", "Запись", "Оренбург"]})
    assert changed.status_code == 200 and changed.json()["headlines"] == ["Стрижка", "Запись", "Оренбург"]


def test_limits_plan_what_if_and_export(contextual):
    client, made = contextual
    assert [
        p for p in call(client, "get", f"campaigns/{made['id']}/limits").json() if p["severity"] == "error"
    ] == []
    plan = call(client, "post", f"campaigns/{made['id']}/plan", {"monthly_budget": 10000})
    assert plan.status_code == 200 and plan.json()["monthly_budget"] == 10000
    assert fields(call(client, "post", f"campaigns/{made['id']}/plan", {"ctr": 5})) == {"ctr"}
    compared = call(client, "post", f"campaigns/{made['id']}/what-if", {"budgets": [5000, 10000]}).json()
    assert [row["monthly_budget"] for row in compared] == [5000, 10000]
    exported = call(client, "get", f"campaigns/{made['id']}/export?fmt=google-ads-editor")
    assert exported.status_code == 200 and "attachment" in exported["Content-Disposition"]
    assert fields(call(client, "get", f"campaigns/{made['id']}/export?fmt=vk")) == {"fmt"}


def test_stats_import_list_and_effectiveness(contextual, time_machine):
    time_machine.move_to("2026-11-20 12:00Z")
    client, made = contextual
    report = "Day,Campaign,Impressions,Clicks,Cost,Conversions\n2026-11-18,Search,1000,50,1250.00,3\n"
    upload = SimpleUploadedFile("report.csv", report.encode(), content_type="text/csv")
    response = client.post("/api/w/salon/ads/stats", {"platform": "google", "file": upload})
    assert response.status_code == 201, response.content
    assert response.json()["imported"] == 1
    assert StatRow.objects.get().campaign_id == made["id"]
    assert [job["file_name"] for job in call(client, "get", "stats").json()] == ["report.csv"]
    assert fields(client.post("/api/w/salon/ads/stats", {"platform": "google"})) == {"file"}
    result = call(client, "get", "effectiveness?start=2026-11-01&end=2026-11-20")
    assert result.status_code == 200
    assert "Search" in json.dumps(result.json(), ensure_ascii=False)
    assert fields(call(client, "get", "effectiveness?start=2026-11-21&end=2026-11-20")) == {"start"}


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_roles(built, contextual, login, role):
    _owner, made = contextual
    client = login(built["cast"].users[role])
    reading = call(client, "get", "campaigns")
    assert reading.status_code == (200 if role == "content_manager" else 403)
    assert call(client, "delete", f"campaigns/{made['id']}").status_code == 403
    assert Campaign.objects.filter(pk=made["id"]).exists()


def test_other_workspaces_ids_are_404(built, contextual, login):
    cast = built["cast"]
    theirs = Campaign.objects.create(
        workspace=cast.other, name="T", kind="targeting", platform="vk", utm_campaign="t"
    )
    client, _made = contextual
    assert call(client, "get", f"campaigns/{theirs.pk}").status_code == 404
    assert call(client, "delete", f"campaigns/{theirs.pk}").status_code == 404
    assert call(client, "patch", f"campaigns/{theirs.pk}", {"name": "Mine"}).status_code == 404
    outsider = login(cast.outsider)
    assert call(outsider, "get", "campaigns").status_code == 404
    assert Campaign.objects.filter(pk=theirs.pk, name="T").exists()


def test_stats_import_takes_a_mapping_for_headers_it_does_not_know(contextual, time_machine):
    time_machine.move_to("2026-11-20 12:00Z")
    client, made = contextual
    report = "d;c;n\n2026-11-18;Search;50\n"

    def send(mapping):
        upload = SimpleUploadedFile("plain.csv", report.encode(), content_type="text/csv")
        return client.post(
            "/api/w/salon/ads/stats", {"platform": "google", "file": upload, "mapping": mapping}
        )

    assert fields(send("")) == {"mapping"}  # nothing recognised: the report cannot be read alone
    assert fields(send("{not json")) == {"mapping"}
    assert fields(send(json.dumps({"date": "d", "campaign": "c", "clicks": "nope"}))) == {"mapping"}
    response = send(json.dumps({"date": "d", "campaign": 1, "clicks": "n"}))
    assert response.status_code == 201, response.content
    assert StatRow.objects.get().clicks == 50 and StatRow.objects.get().campaign_id == made["id"]
