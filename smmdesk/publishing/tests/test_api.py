"""The publishing API: every operation's role, the workflow through it per role (draft, submit, approve,
reject, schedule, reschedule, delete, retry), the calendar, media, best times, performance and the plan
import; other workspaces' ids are 404, bad input a 422 naming the field, never a 500."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from smmdesk.accounts.roles import allowed
from smmdesk.api import api
from smmdesk.publishing import actions
from smmdesk.publishing.api import router
from smmdesk.publishing.api_insights import router as insights_router
from smmdesk.publishing.models import MediaAsset, Post, Variant
from smmdesk.publishing.tests.feeds import make_channel, make_post, member, published

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 11:00 in Orenburg (UTC+5), a Monday
ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def setup(cast):
    vk = make_channel(cast.workspace, "VK")
    tg = make_channel(cast.workspace, "Telegram", stands_for="telegram")
    return cast.workspace, vk, tg


def call(client, method, path, body=None, **params):
    if body is not None:
        return client.generic(
            method.upper(), f"/api/w/salon/{path}", json.dumps(body), content_type="application/json"
        )
    return getattr(client, method)(f"/api/w/salon/{path}", data=params or None)


def as_role(cast, login, role):
    return login(cast.users[role])


def fields(response):
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def conflict(response):
    assert response.status_code == 409, (response.status_code, response.content[:300])
    return response.json()["errors"][0]["field"]


# --- declarations ------------------------------------------------------------------------------------------


def test_every_operation_declares_its_access():
    registered = [r for _prefix, r in api._routers]
    assert router in registered and insights_router in registered
    seen = {}
    for each in (router, insights_router):
        for path, path_view in each.path_operations.items():
            for operation in path_view.operations:
                seen[f"{'/'.join(operation.methods)} {path}"] = operation.view_func.access
    assert seen == {
        "GET /w/{slug}/posts": "publishing.view",
        "POST /w/{slug}/posts": "publishing.draft",
        "GET /w/{slug}/posts/{post_id}": "publishing.view",
        "PUT /w/{slug}/posts/{post_id}": "publishing.draft",
        "DELETE /w/{slug}/posts/{post_id}": "publishing.draft",
        "POST /w/{slug}/posts/{post_id}/submit": "publishing.draft",
        "POST /w/{slug}/posts/{post_id}/approve": "publishing.approve",
        "POST /w/{slug}/posts/{post_id}/reject": "publishing.approve",
        "POST /w/{slug}/posts/{post_id}/schedule": "publishing.draft",
        "POST /w/{slug}/posts/{post_id}/reschedule": "publishing.draft",
        "POST /w/{slug}/posts/{post_id}/unschedule": "publishing.draft",
        "POST /w/{slug}/variants/{variant_id}/retry": "publishing.manage",
        "GET /w/{slug}/calendar": "publishing.view",
        "GET /w/{slug}/media": "publishing.view",
        "GET /w/{slug}/publishing/best-times": "publishing.view",
        "GET /w/{slug}/publishing/performance": "publishing.view",
        "GET /w/{slug}/publishing/performance.csv": "publishing.view",
        "POST /w/{slug}/publishing/imports/preview": "publishing.draft",
        "POST /w/{slug}/publishing/imports": "publishing.draft",
        "GET /w/{slug}/publishing/imports/template.csv": "publishing.draft",
    }


def test_openapi_schema_builds(cast, login):
    paths = as_role(cast, login, "viewer").get("/api/openapi.json").json()["paths"]
    assert "/api/w/{slug}/posts/{post_id}/approve" in paths
    assert "/api/w/{slug}/calendar" in paths


# --- posts and the workflow per role ----------------------------------------------------------------------


def draft_body(vk, tg, **extra):
    return {
        "title": "Свадебные причёски",
        "scheduled_at": "2026-03-10T10:00",  # the business's wall clock
        "variants": [
            {"channel": vk.pk, "text": "Свадебные причёски: запись на весну", "hashtags": ["свадьба"]},
            {
                "channel": tg.pk,
                "text": "Запись на свадебные причёски",
                "link": "https://salon.example/wedding",
                "utm": {"source": "telegram", "medium": "social"},
            },
        ],
        **extra,
    }


@pytest.mark.parametrize("role", ROLES)
def test_create_per_role(cast, login, setup, role):
    _ws, vk, tg = setup
    response = call(as_role(cast, login, role), "post", "posts", draft_body(vk, tg))
    if not allowed(role, "publishing.draft"):
        assert response.status_code == 403
        assert not Post.objects.exists()
        return
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft" and body["headline"] == "Свадебные причёски"
    assert body["scheduled_at"].startswith("2026-03-10T05:00:00")  # 10:00 in UTC+5
    assert [v["channel"] for v in body["variants"]] == ["Telegram", "VK"]
    telegram = body["variants"][0]
    assert telegram["link_with_utm"] == "https://salon.example/wedding?utm_source=telegram&utm_medium=social"
    assert "submit" in body["allowed_actions"]
    assert [e["action"] for e in body["events"]] == ["created"]


def test_create_refusals_name_the_field(cast, login, setup):
    _ws, vk, tg = setup
    other = make_channel(cast.other, "VK")
    writer = as_role(cast, login, "content_manager")
    assert fields(call(writer, "post", "posts", {"variants": [{"channel": other.pk, "text": "x"}]})) == {
        "variants.0.channel": "Choose one of this workspace's channels."
    }
    long = call(writer, "post", "posts", {"variants": [{"channel": vk.pk, "text": "а" * 2001}]})
    assert "2000" in fields(long)["variants.0.text"]
    assert "scheduled_at" in fields(call(writer, "post", "posts", {"scheduled_at": "next tuesday"}))
    assert "recurrence" in fields(call(writer, "post", "posts", {"recurrence": "hourly"}))
    assert "variants.0.text" in fields(
        call(writer, "post", "posts", {"variants": [{"channel": vk.pk, "text": 5}]})
    )
    malformed = writer.post("/api/w/salon/posts", data="{", content_type="application/json")
    assert malformed.status_code in (400, 422)
    assert not Post.objects.exists()


def test_content_manager_drafts_smm_manager_approves_and_it_is_scheduled(cast, login, setup):
    _ws, vk, tg = setup
    writer, approver = as_role(cast, login, "content_manager"), as_role(cast, login, "smm_manager")
    post_id = call(writer, "post", "posts", draft_body(vk, tg)).json()["id"]
    writer = as_role(cast, login, "content_manager")
    assert call(writer, "post", f"posts/{post_id}/submit").json()["state"] == "in_review"
    # The drafter may not approve: the role is refused before anything is looked at.
    assert call(writer, "post", f"posts/{post_id}/approve").status_code == 403
    approver = as_role(cast, login, "smm_manager")
    body = call(approver, "post", f"posts/{post_id}/approve").json()
    assert body["state"] == "scheduled" and body["approved_by_id"] == member(cast.workspace, "smm_manager").pk
    # Approving twice is not possible for this post now: a conflict, not a role refusal.
    assert conflict(call(approver, "post", f"posts/{post_id}/approve")) == "post"
    actions_seen = [e["action"] for e in call(approver, "get", f"posts/{post_id}").json()["events"]]
    assert actions_seen == ["created", "submitted", "approved", "scheduled"]


def test_reject_needs_a_comment_and_returns_the_post_to_draft(cast, login, setup):
    ws, vk, tg = setup
    post = make_post(ws, [vk], state=Post.State.IN_REVIEW, at=NOW + timedelta(days=2))
    approver = as_role(cast, login, "owner")
    assert fields(call(approver, "post", f"posts/{post.pk}/reject", {})) == {
        "comment": "Say what should change, so the author knows."
    }
    body = call(approver, "post", f"posts/{post.pk}/reject", {"comment": "Добавьте цену"}).json()
    assert (body["state"], body["review_comment"]) == ("draft", "Добавьте цену")


def test_update_changes_only_what_is_sent(cast, login, setup):
    ws, vk, tg = setup
    writer = as_role(cast, login, "content_manager")
    post_id = call(writer, "post", "posts", draft_body(vk, tg)).json()["id"]
    body = call(writer, "put", f"posts/{post_id}", {"title": "Причёски на выпускной"}).json()
    assert body["title"] == "Причёски на выпускной" and len(body["variants"]) == 2
    body = call(
        writer, "put", f"posts/{post_id}", {"variants": [{"channel": vk.pk, "text": "Только ВК"}]}
    ).json()
    assert [v["text"] for v in body["variants"]] == ["Только ВК"]
    assert call(writer, "put", "posts/999999", {"title": "x"}).status_code == 404


def test_schedule_and_reschedule(cast, login, setup):
    ws, vk, tg = setup
    post = make_post(ws, [vk], state=Post.State.DRAFT, created_by=member(ws, "content_manager"))
    writer = as_role(cast, login, "content_manager")
    # Approval is required: a content manager cannot schedule a draft.
    assert (
        conflict(call(writer, "post", f"posts/{post.pk}/schedule", {"scheduled_at": "2026-03-05T12:00"}))
        == "post"
    )
    assert "scheduled_at" in fields(
        call(writer, "post", f"posts/{post.pk}/schedule", {"scheduled_at": "soon"})
    )
    manager = as_role(cast, login, "smm_manager")
    assert "scheduled_at" in fields(call(manager, "post", f"posts/{post.pk}/schedule", {}))
    assert "scheduled_at" in fields(
        call(manager, "post", f"posts/{post.pk}/schedule", {"scheduled_at": "2026-03-01T09:00"})
    )
    body = call(manager, "post", f"posts/{post.pk}/schedule", {"scheduled_at": "2026-03-05T12:00"}).json()
    assert body["state"] == "scheduled" and body["scheduled_at"].startswith("2026-03-05T07:00:00")
    writer = as_role(cast, login, "content_manager")
    body = call(
        writer, "post", f"posts/{post.pk}/reschedule", {"scheduled_at": "2026-03-06T09:30:00+05:00"}
    ).json()
    assert body["scheduled_at"].startswith("2026-03-06T04:30:00")
    body = call(writer, "post", f"posts/{post.pk}/unschedule").json()
    assert body["state"] == "approved"


def test_delete_own_draft_but_not_someone_elses(cast, login, setup):
    ws, vk, _tg = setup
    mine = make_post(ws, [vk], state=Post.State.DRAFT, created_by=member(ws, "content_manager"))
    theirs = make_post(ws, [vk], state=Post.State.DRAFT, created_by=member(ws, "smm_manager"))
    writer = as_role(cast, login, "content_manager")
    assert call(writer, "delete", f"posts/{mine.pk}").status_code == 204
    assert conflict(call(writer, "delete", f"posts/{theirs.pk}")) == "post"
    assert call(as_role(cast, login, "viewer"), "delete", f"posts/{theirs.pk}").status_code == 403
    assert call(as_role(cast, login, "owner"), "delete", f"posts/{theirs.pk}").status_code == 204
    assert not Post.objects.exists()


def test_retry_a_failed_variant(cast, login, setup):
    ws, vk, _tg = setup
    post = make_post(
        ws, [vk], state=Post.State.FAILED, at=NOW - timedelta(hours=1), variant_state=Variant.State.FAILED
    )
    variant = post.variants.get()
    assert (
        call(as_role(cast, login, "content_manager"), "post", f"variants/{variant.pk}/retry", {}).status_code
        == 403
    )
    body = call(as_role(cast, login, "owner"), "post", f"variants/{variant.pk}/retry", {}).json()
    assert body["state"] in ("pending", "published")
    assert conflict(call(as_role(cast, login, "owner"), "post", f"variants/{variant.pk}/retry", {})) == "post"


def test_other_workspaces_ids_are_not_found(cast, login, setup):
    foreign = make_post(cast.other, [make_channel(cast.other, "VK")], state=Post.State.DRAFT)
    owner = as_role(cast, login, "owner")
    for method, path in (
        ("get", f"posts/{foreign.pk}"),
        ("put", f"posts/{foreign.pk}"),
        ("delete", f"posts/{foreign.pk}"),
        ("post", f"posts/{foreign.pk}/approve"),
        ("post", f"variants/{foreign.variants.get().pk}/retry"),
    ):
        assert call(owner, method, path, {}).status_code == 404, path
    assert Post.objects.filter(pk=foreign.pk, state=Post.State.DRAFT).exists()


def test_list_filters_and_odd_input(cast, login, setup):
    ws, vk, tg = setup
    first = make_post(ws, [vk], at=NOW + timedelta(days=1), title="Мужская стрижка")
    make_post(ws, [tg], state=Post.State.DRAFT, at=NOW + timedelta(days=40), title="Детская стрижка")
    viewer = as_role(cast, login, "viewer")
    listed = call(viewer, "get", "posts").json()
    assert listed["count"] == 2 and listed["items"][0]["id"] == first.pk
    assert [p["title"] for p in call(viewer, "get", "posts", state="draft").json()["items"]] == [
        "Детская стрижка"
    ]
    assert [p["title"] for p in call(viewer, "get", "posts", channel=vk.pk).json()["items"]] == [
        "Мужская стрижка"
    ]
    assert call(viewer, "get", "posts", q="детская").json()["count"] == 1
    in_march = call(viewer, "get", "posts", start="2026-03-01", end="2026-03-31").json()
    assert [p["id"] for p in in_march["items"]] == [first.pk]
    assert fields(call(viewer, "get", "posts", state="lost")).keys() == {"state"}
    assert fields(call(viewer, "get", "posts", start="2026-02-30")).keys() == {"start"}
    assert fields(call(viewer, "get", "posts", channel="vk")).keys() == {"channel"}
    assert fields(call(viewer, "get", "posts", channel=2**70)).keys() == {"channel"}
    assert fields(call(viewer, "get", "posts", start="2026-03-10", end="2026-03-01")).keys() == {"end"}
    assert call(viewer, "get", "posts/99999999999999999999").status_code in (404, 422)
    assert Client().get("/api/w/salon/posts").status_code == 401


# --- calendar, media, best times, performance --------------------------------------------------------------


def test_calendar_lists_posts_and_planned_repeats_in_local_time(cast, login, setup):
    ws, vk, _tg = setup
    make_post(ws, [vk], at=datetime(2026, 3, 3, 5, 0, tzinfo=UTC), title="Вторник")
    make_post(
        ws,
        [vk],
        at=datetime(2026, 3, 4, 5, 0, tzinfo=UTC),
        recurrence="weekly",
        title="Каждую среду",
        recurrence_until=datetime(2026, 3, 18).date(),
    )
    make_post(ws, [vk], state=Post.State.DRAFT, at=datetime(2026, 4, 20, 5, 0, tzinfo=UTC), title="Апрель")
    viewer = as_role(cast, login, "viewer")
    entries = call(viewer, "get", "calendar", start="2026-03-01", end="2026-03-31").json()
    assert [(e["headline"], e["local"][:16], e["repeat"]) for e in entries] == [
        ("Вторник", "2026-03-03T10:00", False),
        ("Каждую среду", "2026-03-04T10:00", False),
        ("Каждую среду", "2026-03-11T10:00", True),
        ("Каждую среду", "2026-03-18T10:00", True),
    ]
    assert entries[0]["channels"] == [{"id": vk.pk, "name": "VK", "state": "pending"}]
    default = call(viewer, "get", "calendar").json()  # today and the next 4 weeks
    assert [e["headline"] for e in default][:1] == ["Вторник"]
    assert fields(call(viewer, "get", "calendar", start="2026-01-01", end="2026-12-31")).keys() == {"end"}
    assert fields(call(viewer, "get", "calendar", state="gone")).keys() == {"state"}


def test_media_library_is_the_workspace_own(cast, login, setup):
    ws, _vk, _tg = setup
    for workspace, name in ((ws, "стрижка.jpg"), (cast.other, "чужое.jpg")):
        MediaAsset.objects.create(
            workspace=workspace,
            file=f"media/2026/03/{name}",
            kind="image",
            content_type="image/jpeg",
            size=1000,
            width=10,
            height=10,
            original_name=name,
        )
    assets = call(as_role(cast, login, "viewer"), "get", "media").json()
    assert [a["original_name"] for a in assets] == ["стрижка.jpg"]


def test_best_times_default_until_there_is_history(cast, login, setup):
    _ws, vk, tg = setup
    suggestions = {
        s["channel"]: s for s in call(as_role(cast, login, "viewer"), "get", "publishing/best-times").json()
    }
    assert set(suggestions) == {"VK", "Telegram"}
    vk_slots = suggestions["VK"]["slots"]
    assert suggestions["VK"]["source"] == "default" and len(vk_slots) == 3
    # Tuesday 19:00 in Orenburg is 14:00 UTC, the next one after Monday 2 March.
    assert (vk_slots[0]["weekday"], vk_slots[0]["hour"]) == (1, 19)
    assert vk_slots[0]["next_at"].startswith("2026-03-03T14:00:00")


def test_performance_and_csv(cast, login, setup):
    _ws, vk, _tg = setup
    published(vk, NOW - timedelta(days=2), {"reach": 500, "likes": 40, "comments": 8, "shares": 2})
    viewer = as_role(cast, login, "viewer")
    body = call(viewer, "get", "publishing/performance").json()
    assert body["totals"]["rate"] == pytest.approx(0.1)
    assert [row["channel"] for row in body["top"]] == ["VK"]
    assert len(body["daily"]) == 30
    csv = call(viewer, "get", "publishing/performance.csv")
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.decode().splitlines()[1].endswith(",500,40,8,2,50,0.1000")
    assert fields(
        call(viewer, "get", "publishing/performance", start="2026-03-10", end="2026-03-01")
    ).keys() == {"end"}
    assert fields(call(viewer, "get", "publishing/performance", start="2024-01-01")).keys() == {"end"}


# --- plan import ---------------------------------------------------------------------------------------------


PLAN = (
    "date,time,channels,text,media_url\n"
    "2026-03-10,10:00,VK; Telegram,Мужская стрижка — 700 ₽,\n"
    "2026-03-11,11:00,VK,Женская стрижка и укладка,\n"
    "2026-03-12,12:00,Instagram,Детская стрижка,\n"
)


def test_import_preview_then_confirm(cast, login, setup):
    writer = as_role(cast, login, "content_manager")
    preview = call(writer, "post", "publishing/imports/preview", {"csv": PLAN}).json()
    assert (preview["good"], preview["bad"], preview["zone"]) == (2, 1, "Asia/Yekaterinburg")
    assert [(e["row"], e["column"]) for e in preview["errors"]] == [(4, "channels")]
    assert preview["rows"][0]["channels"] == ["VK", "Telegram"]
    assert not Post.objects.exists()
    refused = call(writer, "post", "publishing/imports", {"csv": PLAN, "confirm": preview["digest"]})
    assert fields(refused).keys() == {"rows.4.channels"}
    assert fields(call(writer, "post", "publishing/imports", {"csv": PLAN, "confirm": "nope"})).keys() == {
        "file"
    }
    assert fields(call(writer, "post", "publishing/imports", {})).keys() == {"csv"}
    assert not Post.objects.exists()
    done = call(
        writer, "post", "publishing/imports", {"csv": PLAN, "confirm": preview["digest"], "skip_bad": True}
    )
    assert done.status_code == 201
    assert done.json() | {"post_ids": []} == {
        "created": 2,
        "scheduled": 0,
        "drafts": 2,
        "skipped_rows": [4],
        "post_ids": [],
    }
    assert Post.objects.filter(state=Post.State.DRAFT).count() == 2


def test_import_template_and_roles(cast, login, setup):
    template = call(as_role(cast, login, "content_manager"), "get", "publishing/imports/template.csv")
    assert template.status_code == 200 and template["Content-Type"] == "text/csv; charset=utf-8"
    assert template.content.decode("utf-8-sig").startswith("date,time,channels,text,media_url")
    for role in ("agent", "viewer"):
        assert (
            call(as_role(cast, login, role), "post", "publishing/imports/preview", {"csv": PLAN}).status_code
            == 403
        )


def test_import_with_approval_off_schedules(cast, login, setup):
    actions.update_settings(member(cast.workspace, "owner"), approval_required=False)
    writer = as_role(cast, login, "content_manager")
    plan = PLAN.rsplit("2026-03-12", 1)[0]
    digest = call(writer, "post", "publishing/imports/preview", {"csv": plan}).json()["digest"]
    done = call(writer, "post", "publishing/imports", {"csv": plan, "confirm": digest}).json()
    assert (done["scheduled"], done["drafts"]) == (2, 0)
    assert set(Post.objects.values_list("state", flat=True)) == {Post.State.SCHEDULED}
