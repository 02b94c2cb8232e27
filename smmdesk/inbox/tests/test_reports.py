"""Inbox reports: the figures, the CSV export (formula injection), and the page."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.business.models import Department
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import reports
from smmdesk.inbox.models import Conversation, Message, SlaPolicy, TimelineEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 11:00 in Orenburg


def make_channel(workspace, name="VK"):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    channel.store_config(FakeConfig(account_id=f"acc-{workspace.slug}-{name}", api_token="token-123456"))
    channel.save()
    return channel


class World:
    """A small, fully known inbox: every figure in the report can be worked out by hand."""

    def __init__(self, cast):
        ws = cast.workspace
        self.ws = ws
        self.vk = make_channel(ws, "VK")
        self.tg = make_channel(ws, "Telegram")
        self.reception = Department.objects.create(workspace=ws, name="Reception")
        self.quality = Department.objects.create(workspace=ws, name="Quality")
        self.agent = Membership.objects.get(workspace=ws, role="agent")
        self.manager = Membership.objects.get(workspace=ws, role="smm_manager")
        self.policy = SlaPolicy.objects.create(workspace=ws, name="Default")
        self.count = 0

    def conversation(
        self,
        *,
        channel=None,
        department=None,
        assignee=None,
        sentiment="neutral",
        start=T0,
        first_response=None,
        resolved=None,
        policy=True,
        breached=False,
        **extra,
    ):
        self.count += 1
        conversation = Conversation.objects.create(
            workspace=self.ws,
            channel=channel or self.vk,
            kind="dm",
            thread_key=f"dm:{self.count}",
            department=department,
            assignee=assignee,
            sentiment=sentiment,
            sla_policy=self.policy if policy else None,
            created_at=start,
            updated_at=start,
            first_response_at=start + timedelta(minutes=first_response)
            if first_response is not None
            else None,
            resolved_at=start + timedelta(minutes=resolved) if resolved is not None else None,
            status="resolved" if resolved is not None else "open",
            **extra,
        )
        Message.objects.create(
            workspace=self.ws,
            channel=conversation.channel,
            conversation=conversation,
            direction="in",
            external_id=f"m{self.count}",
            text="Здравствуйте",
            received_at=start,
            sentiment=sentiment,
        )
        if breached:
            # The SLA clock clears the deadline once missed: the timeline event is what remains.
            TimelineEvent.objects.create(conversation=conversation, kind="sla_breach", created_at=start)
        return conversation

    def reply(self, conversation, author, minutes, delivery="sent"):
        return Message.objects.create(
            workspace=self.ws,
            channel=conversation.channel,
            conversation=conversation,
            direction="out",
            author=author,
            text="Ответ",
            received_at=conversation.created_at + timedelta(minutes=minutes),
            delivery=delivery,
        )


@pytest.fixture
def world(cast):
    return World(cast)


def period():
    return T0 - timedelta(days=1), T0 + timedelta(days=1)


def test_percentile_interpolates_between_ranks():
    values = [float(v) for v in range(1, 11)]
    assert reports.percentile(values, 0.5) == 5.5
    assert reports.percentile(values, 0.9) == pytest.approx(9.1)
    assert reports.percentile([7.0], 0.9) == 7.0
    assert reports.percentile([], 0.5) is None
    assert reports.percentile([3.0, 1.0, 2.0], 0.5) == 2.0  # unsorted input


def test_report_figures(world):
    w = world
    a = w.conversation(department=w.reception, assignee=w.agent, first_response=4, resolved=60)
    b = w.conversation(department=w.reception, assignee=w.agent, first_response=10, resolved=120)
    c = w.conversation(
        department=w.quality,
        assignee=w.manager,
        sentiment="negative",
        first_response=30,
        breached=True,
        channel=w.tg,
    )
    w.conversation(sentiment="positive", policy=False)  # unrouted, never answered, the default policy
    # Outside the period: counts nowhere.
    w.conversation(department=w.reception, start=T0 - timedelta(days=3), first_response=999, resolved=999)
    w.reply(a, w.agent, 4)
    w.reply(b, w.agent, 10)
    w.reply(b, w.agent, 11, delivery="failed")  # a failed send is not a reply the customer got
    w.reply(c, w.manager, 30)

    data = reports.report(w.ws, *period())

    assert data["conversations"] == 4 and data["resolved"] == 2
    assert data["messages_in"] == 4 and data["replies"] == 3
    assert data["first_response"] == {"count": 3, "median": 10.0, "p90": 26.0}
    assert data["resolution"] == {"count": 2, "median": 90.0, "p90": 114.0}
    # Every conversation runs on a policy (the default one when none is saved); one missed a deadline:
    # its deadline is gone, the breach event is not.
    assert data["sla"] == {"measured": 4, "breached": 1, "compliance": 75.0}

    departments = {row["name"]: row for row in data["departments"]}
    assert list(departments) == ["Quality", "Reception", "No department"]
    assert departments["Reception"]["conversations"] == 2
    assert departments["Reception"]["first_response"] == {"count": 2, "median": 7.0, "p90": 9.4}
    assert departments["Reception"]["resolution"]["median"] == 90.0
    assert departments["Reception"]["sla"]["compliance"] == 100.0
    assert departments["Quality"]["sla"]["compliance"] == 0.0
    assert departments["Quality"]["resolution"]["median"] is None
    assert departments["No department"]["conversations"] == 1
    assert departments["No department"]["sla"]["compliance"] == 100.0

    channels = {row["name"]: (row["conversations"], row["messages"]) for row in data["channels"]}
    assert channels == {"VK": (3, 3), "Telegram": (1, 1)}
    sentiments = {row["key"]: (row["conversations"], row["messages"]) for row in data["sentiments"]}
    assert sentiments == {"negative": (1, 1), "neutral": (2, 2), "positive": (1, 1)}

    agents = {row["role"]: row for row in data["agents"]}
    assert agents["agent"]["assigned"] == 2 and agents["agent"]["replies"] == 2
    assert agents["agent"]["first_response"]["median"] == 7.0
    assert agents["smm_manager"]["assigned"] == 1 and agents["smm_manager"]["replies"] == 1
    assert agents["smm_manager"]["sla"]["compliance"] == 0.0
    # Members who answer customers are listed even without figures; viewers and content managers are not.
    assert agents["owner"]["assigned"] == 0
    assert "viewer" not in agents and "content_manager" not in agents
    assert data["agents"][0]["role"] == "agent"  # the busiest first


def test_sla_breach_recorded_only_on_the_conversation_or_still_overdue(world, time_machine):
    w = world
    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    w.conversation(sla_breached_at=T0 + timedelta(minutes=10), first_response=20)
    # Not answered, deadline passed, the periodic check has not run yet: already a miss.
    w.conversation(due_at=T0 + timedelta(minutes=10))
    w.conversation(due_at=T0 + timedelta(hours=5))  # still within its deadline
    w.conversation(due_at=T0 + timedelta(minutes=10), sla_paused_at=T0)  # paused: waiting on the customer
    assert reports.report(w.ws, *period())["sla"] == {"measured": 4, "breached": 2, "compliance": 50.0}


def test_empty_period(world):
    data = reports.report(world.ws, *period())
    assert data["conversations"] == 0
    assert data["first_response"] == {"count": 0, "median": None, "p90": None}
    assert data["sla"]["compliance"] is None
    assert reports.report_csv(data).startswith("section,name,metric,value\r\n")


def test_other_workspaces_do_not_count(world, cast):
    other_channel = make_channel(cast.other, "VK")
    Conversation.objects.create(
        workspace=cast.other, channel=other_channel, kind="dm", thread_key="dm:x", created_at=T0
    )
    assert reports.report(world.ws, *period())["conversations"] == 0


def test_day_range_uses_the_business_time_zone(world):
    # 20:00 UTC on 1 March is 01:00 on 2 March in Orenburg (UTC+5).
    world.conversation(start=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    first = reports.report(world.ws, *reports.day_range(world.ws, date(2026, 3, 1), date(2026, 3, 1)))
    second = reports.report(world.ws, *reports.day_range(world.ws, date(2026, 3, 2), date(2026, 3, 2)))
    assert (first["conversations"], second["conversations"]) == (0, 1)


def parse_csv(text):
    return list(csv.reader(io.StringIO(text)))


def test_csv_neutralises_formulas(world):
    w = world
    w.reception.name = '=HYPERLINK("http://evil.example","click")'
    w.reception.save()
    w.tg.name = "+cmd|' /C calc'!A0"
    w.tg.save()
    w.agent.user.name = "@SUM(1+1)"
    w.agent.user.save()
    w.conversation(department=w.reception, assignee=w.agent, first_response=5, channel=w.tg)
    rows = parse_csv(reports.report_csv(reports.report(w.ws, *period())))
    assert rows[0] == ["section", "name", "metric", "value"]
    names = {row[1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil.example","click")' in names
    assert "'+cmd|' /C calc'!A0" in names
    assert "'@SUM(1+1)" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert [
        "department",
        '\'=HYPERLINK("http://evil.example","click")',
        "first_response_median_minutes",
        "5.0",
    ] in rows
    assert ["total", "", "conversations", "1"] in rows


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("+x", "'+x"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (None, ""),
        (12.5, "12.5"),
    ],
)
def test_safe_cell(value, expected):
    assert reports.safe_cell(value) == expected


# --- the page ----------------------------------------------------------------------------------------------


def url(cast, name="inbox:reports"):
    return reverse(name, kwargs={"slug": cast.workspace.slug})


@pytest.mark.parametrize(
    "role,status",
    [("owner", 200), ("smm_manager", 200), ("agent", 403), ("content_manager", 403), ("viewer", 403)],
)
def test_page_roles(cast, login, role, status):
    client = login(cast.users[role])
    assert client.get(url(cast)).status_code == status
    assert client.get(url(cast, "inbox:reports_csv")).status_code == status


def test_page_outsider_and_anonymous(cast, client, login):
    assert client.get(url(cast)).status_code == 302
    login(cast.outsider)
    assert client.get(url(cast)).status_code == 404
    assert client.get(url(cast, "inbox:reports_csv")).status_code == 404


def test_page_shows_tables_and_charts(world, cast, login, time_machine):
    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    w = world
    w.quality.name = "<script>alert('q')</script>"
    w.quality.save()
    w.conversation(department=w.reception, assignee=w.agent, first_response=4, resolved=60)
    w.conversation(department=w.quality, first_response=8, sentiment="negative")
    response = login(cast.users["smm_manager"]).get(url(cast), {"period": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["report"]["conversations"] == 2
    assert "<svg" in html and "<rect" in html
    assert "0 of 2 missed a deadline" in html and "1 resolved" in html and "2 from customers" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt;" in html
    assert 'style="' not in html  # the CSP refuses inline styles
    assert url(cast, "inbox:reports_csv") + "?period=7" in html
    chart = response.context["charts"]["department_volume"]
    assert [bar["width"] for bar in chart["bars"]] == [580.0, 580.0, 0.0]


def test_default_period_is_last_30_days(world, cast, login, time_machine):
    time_machine.move_to(T0 + timedelta(days=20), tick=False)
    world.conversation()
    world.conversation(start=T0 - timedelta(days=20))
    response = login(cast.users["owner"]).get(url(cast))
    assert response.context["report"]["conversations"] == 1
    assert response.context["form"].cleaned_data["period"] == "30"


def test_custom_period(world, cast, login):
    world.conversation()
    client = login(cast.users["owner"])
    response = client.get(url(cast), {"period": "custom", "start": "2026-03-02", "end": "2026-03-02"})
    assert response.status_code == 200 and response.context["report"]["conversations"] == 1
    response = client.get(url(cast), {"period": "custom", "start": "2026-03-03", "end": "2026-03-02"})
    assert response.status_code == 400
    assert "end" in response.context["form"].errors
    assert "The last day cannot be before the first day." in response.content.decode()
    response = client.get(url(cast), {"period": "custom", "start": "nonsense"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"start", "end"}
    response = client.get(url(cast), {"period": "custom", "start": "2020-01-01", "end": "2026-03-02"})
    assert response.status_code == 400 and "end" in response.context["form"].errors
    assert client.get(url(cast), {"period": "9999"}).status_code == 400


def test_csv_download(world, cast, login):
    world.conversation(department=world.reception, first_response=3)
    client = login(cast.users["owner"])
    response = client.get(
        url(cast, "inbox:reports_csv"), {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="inbox-report-salon-20260301-20260401.csv"'
    )
    rows = parse_csv(response.content.decode())
    assert ["department", "Reception", "first_response_median_minutes", "3.0"] in rows
    bad = client.get(url(cast, "inbox:reports_csv"), {"period": "custom", "start": "x"})
    assert bad.status_code == 400 and b"start" in bad.content


def test_post_is_refused(cast, login):
    assert login(cast.users["owner"]).post(url(cast)).status_code == 405
