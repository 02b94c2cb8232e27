"""Tracked terms and sources pages: everyone sees them; the owner and SMM managers add, change and remove
(and poll sources); a refused value comes back next to its field; a source's health and last error show
(escaped); other workspaces' rows are not found; nothing answers 500."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smmdesk.listening.models import Source, TrackedTerm
from smmdesk.listening.tests.test_views import (
    MANAGERS,
    NOW,
    ROLES,
    XSS,
    fake_channel,
    make_source,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def term_data(**fields) -> dict:
    return {"kind": "brand", "phrase": "Lokon", "exclusions": "", **fields}


# Terms


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_the_terms_only_managers_change_them(cast, login, clock, role):
    TrackedTerm.objects.create(workspace=cast.workspace, kind="product", phrase="стрижка", exclusions=["лес"])
    client = login(cast.users[role])
    body = client.get(url("terms")).content.decode()
    assert "стрижка" in body and "лес" in body
    assert ('data-testid="term-form"' in body) == (role in MANAGERS)
    response = client.post(url("terms"), term_data(phrase="Локон"))
    if role in MANAGERS:
        assert response.status_code == 302
        assert TrackedTerm.objects.filter(workspace=cast.workspace, phrase="Локон").exists()
    else:
        assert response.status_code == 403
        assert not TrackedTerm.objects.filter(phrase="Локон").exists()


def test_add_a_term_with_exclusions_and_languages(cast, login, clock):
    response = login(cast.users["smm_manager"]).post(
        url("terms"),
        term_data(kind="competitor", phrase="Чародейка", exclusions="фильм\nкнига", languages=["ru"]),
    )
    assert response.status_code == 302
    term = TrackedTerm.objects.get(workspace=cast.workspace, phrase="Чародейка")
    assert term.kind == "competitor"
    assert sorted(term.exclusions) == ["книга", "фильм"]
    assert term.languages == ["ru"]


@pytest.mark.parametrize(
    "data,field",
    [
        (term_data(phrase=""), "phrase"),
        (term_data(kind="planet"), "kind"),
        (term_data(languages=["xx"]), "languages"),
        (term_data(phrase="x" * 201), "phrase"),
    ],
)
def test_bad_term_input_is_shown_next_to_its_field(cast, login, clock, data, field):
    response = login(cast.users["owner"]).post(url("terms"), data)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not TrackedTerm.objects.exists()


def test_the_use_cases_refusal_is_shown_next_to_its_field(cast, login, clock):
    """A phrase tracked already is refused by listening.actions, not by the form."""
    TrackedTerm.objects.create(workspace=cast.workspace, kind="brand", phrase="Lokon")
    response = login(cast.users["owner"]).post(url("terms"), term_data(phrase="Lokon"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="error-phrase"' in body or 'data-testid="error-form"' in body
    assert TrackedTerm.objects.filter(workspace=cast.workspace).count() == 1


def test_typed_text_is_escaped_when_shown_back(cast, login, clock):
    TrackedTerm.objects.create(workspace=cast.workspace, kind="brand", phrase=f"p{XSS}", exclusions=[XSS])
    body = login(cast.users["viewer"]).get(url("terms")).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_edit_a_term_and_pause_it(cast, login, clock):
    term = TrackedTerm.objects.create(workspace=cast.workspace, kind="brand", phrase="Lokon")
    client = login(cast.users["smm_manager"])
    form = client.get(url("term_edit", term_id=term.pk))
    assert form.status_code == 200 and 'value="Lokon"' in form.content.decode()
    response = client.post(
        url("term_edit", term_id=term.pk), term_data(phrase="Lokon", exclusions="локон волос")
    )  # "active" left unticked
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.exclusions == ["локон волос"] and term.active is False
    bad = client.post(url("term_edit", term_id=term.pk), term_data(phrase=""))
    assert bad.status_code == 400 and 'data-testid="error-phrase"' in bad.content.decode()
    term.refresh_from_db()
    assert term.phrase == "Lokon"


def test_delete_a_term(cast, login, clock):
    term = TrackedTerm.objects.create(workspace=cast.workspace, kind="brand", phrase="Lokon")
    assert login(cast.users["agent"]).post(url("term_delete", term_id=term.pk)).status_code == 403
    assert login(cast.users["owner"]).post(url("term_delete", term_id=term.pk)).status_code == 302
    assert not TrackedTerm.objects.filter(pk=term.pk).exists()


def test_another_workspaces_term_is_not_found(cast, login, clock):
    theirs = TrackedTerm.objects.create(workspace=cast.other, kind="brand", phrase="Rival")
    client = login(cast.users["owner"])
    assert client.get(url("term_edit", term_id=theirs.pk)).status_code == 404
    assert client.post(url("term_edit", term_id=theirs.pk), term_data(phrase="Mine")).status_code == 404
    assert client.post(url("term_delete", term_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.phrase == "Rival"


# Sources


@pytest.fixture
def vk(cast):
    return fake_channel(cast.workspace, "VK group", "salon-vk")


@pytest.mark.parametrize("role", ROLES)
def test_sources_show_their_health_to_everyone(cast, login, clock, vk, role):
    make_source(
        cast.workspace,
        vk,
        health=Source.Health.FAILING,
        failures=3,
        last_error=f"HTTP 404 {XSS}",
        last_polled_at=NOW - timedelta(minutes=3),
        last_ok_at=NOW - timedelta(hours=2),
        next_poll_at=NOW + timedelta(minutes=12),
        interval_minutes=30,
    )
    body = login(cast.users[role]).get(url("sources")).content.decode()
    assert 'data-health="failing"' in body
    assert 'data-testid="source-failures">3<' in body
    assert "HTTP 404 &lt;img" in body and "<script>alert(1)" not in body
    assert "10.03.2026 13:57" in body  # last poll, business clock
    assert "10.03.2026 14:12" in body  # next poll
    assert "30 min" in body
    assert ('data-testid="source-poll"' in body) == (role in MANAGERS)
    # The only channel is a source already: managers are told so instead of getting an empty form.
    assert ('data-testid="no-source-choices"' in body) == (role in MANAGERS)


def test_add_a_source_from_the_offered_channels(cast, login, clock, vk):
    client = login(cast.users["smm_manager"])
    body = client.get(url("sources")).content.decode()
    assert f'value="{vk.pk}"' in body
    response = client.post(url("sources"), {"channel": vk.pk, "interval_minutes": 20})
    assert response.status_code == 302
    source = Source.objects.get(workspace=cast.workspace)
    assert source.channel == vk and source.interval_minutes == 20


@pytest.mark.parametrize(
    "data,field",
    [
        ({"interval_minutes": 20}, "channel"),
        ({"channel": "abc", "interval_minutes": 20}, "channel"),
        ({"channel": "VK", "interval_minutes": 4}, "interval_minutes"),
        ({"channel": "VK", "interval_minutes": 1441}, "interval_minutes"),
        ({"channel": "VK", "interval_minutes": "soon"}, "interval_minutes"),
    ],
)
def test_bad_source_input_is_named(cast, login, clock, vk, data, field):
    if data.get("channel") == "VK":
        data = {**data, "channel": vk.pk}
    response = login(cast.users["owner"]).post(url("sources"), data)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not Source.objects.exists()


def test_another_workspaces_channel_cannot_become_a_source(cast, login, clock, vk):
    theirs = fake_channel(cast.other, "Rival VK", "rival-vk")
    response = login(cast.users["owner"]).post(url("sources"), {"channel": theirs.pk, "interval_minutes": 15})
    assert response.status_code == 400
    assert not Source.objects.exists()


def test_edit_poll_and_delete_a_source(cast, login, clock, vk):
    source = make_source(cast.workspace, vk, next_poll_at=NOW + timedelta(hours=3))
    client = login(cast.users["owner"])
    assert client.get(url("source_edit", source_id=source.pk)).status_code == 200
    response = client.post(url("source_edit", source_id=source.pk), {"interval_minutes": 60})  # unticked: off
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.interval_minutes == 60 and source.active is False
    bad = client.post(url("source_edit", source_id=source.pk), {"interval_minutes": 0, "active": "on"})
    assert bad.status_code == 400 and 'data-testid="error-interval_minutes"' in bad.content.decode()

    client.post(url("source_edit", source_id=source.pk), {"interval_minutes": 60, "active": "on"})
    polled = client.post(url("source_poll", source_id=source.pk), HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and 'data-testid="source-row"' in polled.content.decode()
    source.refresh_from_db()
    assert source.next_poll_at is not None and source.next_poll_at <= NOW

    assert client.post(url("source_delete", source_id=source.pk)).status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()


@pytest.mark.parametrize("role", ["content_manager", "agent", "viewer"])
def test_only_managers_change_sources(cast, login, clock, vk, role):
    source = make_source(cast.workspace, vk, interval_minutes=15)
    client = login(cast.users[role])
    assert client.post(url("sources"), {"channel": vk.pk, "interval_minutes": 20}).status_code == 403
    assert client.post(url("source_edit", source_id=source.pk), {"interval_minutes": 60}).status_code == 403
    assert client.post(url("source_poll", source_id=source.pk)).status_code == 403
    assert client.post(url("source_delete", source_id=source.pk)).status_code == 403
    source.refresh_from_db()
    assert source.interval_minutes == 15


def test_another_workspaces_source_is_not_found(cast, login, clock):
    theirs = make_source(cast.other, fake_channel(cast.other, "Rival VK", "rival-vk"))
    client = login(cast.users["owner"])
    for name in ("source_edit", "source_poll", "source_delete"):
        assert client.post(url(name, source_id=theirs.pk), {"interval_minutes": 60}).status_code == 404
    assert Source.objects.filter(pk=theirs.pk, interval_minutes=15).exists()
