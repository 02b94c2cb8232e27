"""The weekly report: the week's figures against what was seeded (SLA compliance from the misses the
inbox's own SLA clock recorded), one e-mail per owner and week however often the hourly task runs (on
Monday from 08:00 in the business's time zone), a PDF whose text keeps Cyrillic and Slovak letters, an
HTML part where a customer's markup stays inert, a PDF renderer that fetches nothing, and the command
that writes the PDF."""

import io
import itertools
import smtplib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from django.core import mail
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from pypdf import PdfReader

from smmdesk.accounts.models import Membership, User
from smmdesk.audience import tasks_reports, weekly, weekly_pdf
from smmdesk.audience.cli import audience
from smmdesk.audience.models import FollowerCount, Order, WeeklyReport
from smmdesk.business.models import Department
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import actions, sla_tasks
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Message, SlaPolicy
from smmdesk.publishing.models import Post, Variant, VariantMetric

pytestmark = pytest.mark.django_db

WEEK = date(2026, 3, 2)  # Monday; the week runs to Sunday 8 March
# Monday 9 March in Orenburg (UTC+5): 07:59 is too early, 08:30 is time.
TOO_EARLY = datetime(2026, 3, 9, 2, 59, tzinfo=UTC)
MONDAY_0830 = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
SCRIPT = "<script>alert('x')</script> Укладка"
YEKT = ZoneInfo("Asia/Yekaterinburg")  # the cast's time zone


def make_channel(workspace, name, account):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    channel.store_config(FakeConfig(account_id=account, api_token="token-123456"))
    channel.save()
    return channel


@pytest.fixture
def salon(cast):
    """Last week of a hairdresser's: conversations, messages, a published post with metrics, orders,
    follower counts; and owners reading Slovak and Russian."""
    ws = cast.workspace
    owner = cast.users["owner"]
    owner.language = "sk"
    owner.save()
    second = User.objects.create_user("second-owner@salon.example", "pass-word-123", language="ru")
    Membership.objects.create(user=second, workspace=ws, role="owner")
    quiet = User.objects.create_user("no-mail@salon.example", "pass-word-123", is_active=False)
    Membership.objects.create(user=quiet, workspace=ws, role="owner")

    vk = make_channel(ws, "Salón Žilina", "salon-vk")
    tg = make_channel(ws, "Telegram", "salon-tg")
    reception = Department.objects.create(workspace=ws, name="Recepcia")
    masters = Department.objects.create(workspace=ws, name="Мастера")
    start = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # Tuesday
    talks = [
        (reception, 5, ["booking", "price"]),
        (reception, 15, ["booking"]),
        (reception, None, ["booking", "complaint"]),
        (masters, 40, ["complaint"]),
        (None, 8, []),
    ]
    for n, (department, first_response, tags) in enumerate(talks):
        talk = Conversation.objects.create(
            workspace=ws,
            channel=vk,
            kind="dm",
            thread_key=f"dm:{n}",
            department=department,
            tags=tags,
            status="resolved" if first_response else "open",
            created_at=start + timedelta(hours=n),
            updated_at=start + timedelta(hours=n),
            first_response_at=start + timedelta(hours=n, minutes=first_response) if first_response else None,
            resolved_at=start + timedelta(hours=n, minutes=90) if first_response else None,
        )
        sentiment = ("negative", "neutral", "positive", "negative", "positive")[n]
        Message.objects.create(
            workspace=ws,
            channel=vk,
            conversation=talk,
            direction="in",
            external_id=f"m{n}",
            text="Dobrý deň",
            received_at=talk.created_at,
            sentiment=sentiment,
        )
    post = Post.objects.create(workspace=ws, title="Jarná zľava na účesy", state="published")
    variant = Variant.objects.create(
        post=post,
        channel=vk,
        text="Весенняя скидка",
        state="published",
        published_at=start,
        url="https://vk.com/wall-1_5",
    )
    for name, value in (("views", 1000), ("likes", 40), ("reposts", 5), ("comments", 5)):
        VariantMetric.objects.create(variant=variant, name=name, value=value, measured_at=start)

    orders = [
        ("1", "2026-03-02", "Стрижка мужская", "600", "male", "Ленинский"),
        ("2", "2026-03-04", "Стрижка мужская", "600", "male", "Žilina"),
        ("3", "2026-03-05", "Dámsky strih ľahký", "1200", "female", "Žilina"),
        ("4", "2026-03-08", "Svadobný účes", "3000", "female", "Žilina"),
        ("5", "2026-03-06", SCRIPT, "900", "female", "Ленинский"),
        ("6", "2026-02-25", "Стрижка мужская", "600", "male", ""),  # the week before
        ("7", "2026-03-09", "Стрижка мужская", "600", "male", ""),  # the week after
    ]
    for order_id, day, service, price, gender, district in orders:
        Order.objects.create(
            workspace=ws,
            order_id=order_id,
            date=date.fromisoformat(day),
            service_name=service,
            price=Decimal(price),
            gender=gender,
            district=district,
        )
    FollowerCount.objects.bulk_create(
        [
            FollowerCount(channel=vk, date=date(2026, 3, 1), followers=500),  # last Sunday: the base
            FollowerCount(channel=vk, date=date(2026, 3, 8), followers=530),
            FollowerCount(channel=tg, date=date(2026, 3, 4), followers=80),
            FollowerCount(channel=tg, date=date(2026, 3, 7), followers=75),
        ]
    )
    return ws


@pytest.fixture
def run_tasks():
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_weeks_figures(salon):
    data = weekly.build(salon, date(2026, 3, 4))  # any day picks its week
    assert (data["week_start"], data["week_end"]) == (WEEK, date(2026, 3, 8))
    sla = data["sla"]
    assert (sla["conversations"], sla["resolved"], sla["messages_in"]) == (5, 4, 5)
    assert sla["first_response"]["median"] == 11.5  # 5, 8, 15, 40 minutes
    assert [(d["name"], d["conversations"], d["tags"]) for d in data["departments"]] == [
        ("Recepcia", 3, [("booking", 3), ("price", 1), ("complaint", 1)]),
        ("Мастера", 1, [("complaint", 1)]),
        (data["departments"][2]["name"], 1, []),
    ]
    assert data["departments"][2]["id"] is None
    assert {row["key"]: row["messages"] for row in data["sentiment"]} == {
        "negative": 2,
        "neutral": 1,
        "positive": 2,
    }
    followers = {row["name"]: (row["last"], row["change"]) for row in data["followers"]["channels"]}
    assert followers == {"Salón Žilina": (530, 30), "Telegram": (75, -5)}
    [top] = data["posts"]["top"]
    assert (top["headline"], top["reach"], top["engagement"]) == ("Jarná zľava na účesy", 1000.0, 50.0)
    orders = data["orders"]
    assert (orders["total"], orders["previous_total"], orders["revenue"]) == (5, 1, Decimal("6300"))
    assert [(s["service"], s["orders"]) for s in orders["services"]][0] == ("Стрижка мужская", 2)
    assert orders["districts"][0] == ("Žilina", 0.6)


@pytest.fixture
def talk(cast, time_machine):
    """talk(start, reply_after=None, scan_after=None): a customer writes at `start` and the inbox takes
    it in; the minute-by-minute scan runs once `scan_after` minutes later if given; an agent replies
    `reply_after` minutes after the message and resolves the conversation half an hour later, if given.
    Everything goes through the product's own paths (ingest, sla_tasks.scan, actions), so the misses the
    report counts are the ones the SLA clock really records. The policy wants a first response within 15
    minutes of plain time, so no opening hours shift the deadlines."""
    ws = cast.workspace
    SlaPolicy.objects.create(workspace=ws, name="Quick", first_response_minutes=15, business_hours=False)
    channel = make_channel(ws, "VK", "salon-sla")
    agent = cast.users["agent"].memberships.get(workspace=ws)
    count = itertools.count(1)

    def run(start, reply_after=None, scan_after=None):
        n = next(count)
        time_machine.move_to(start, tick=False)
        event = InboundEvent(
            external_id=f"sla-{n}",
            kind="dm",
            author_id=f"cust-{n}",  # one customer each: every message starts its own conversation
            author_name="Анна",
            text="Здравствуйте! Можно записаться на стрижку?",
            created_at=start,
        )
        [message_id] = ingest(channel, [event]).created
        conversation = Conversation.objects.get(messages__pk=message_id)
        if scan_after is not None:
            time_machine.move_to(start + timedelta(minutes=scan_after), tick=False)
            sla_tasks.scan(timezone.now())
        if reply_after is not None:
            time_machine.move_to(start + timedelta(minutes=reply_after), tick=False)
            conversation.refresh_from_db()
            actions.reply(conversation, agent, "Здравствуйте! Записали вас на 15:00.")
            time_machine.move_to(start + timedelta(minutes=reply_after + 30), tick=False)
            actions.set_status(conversation, "resolved", agent)
        return conversation

    return run


def test_sla_compliance_is_the_share_of_conversations_that_met_their_deadlines(cast, talk, time_machine):
    def at(month, day, hour, minute=0):
        return datetime(2026, month, day, hour, minute, tzinfo=YEKT)

    # The week before: one answered in time, one 20 minutes late.
    talk(at(2, 24, 10), reply_after=10)
    talk(at(2, 25, 10), reply_after=20)
    # The week (2-8 March): four answered within the 15 minutes...
    talk(at(3, 3, 10), reply_after=3)
    talk(at(3, 3, 11), reply_after=5)
    talk(at(3, 4, 10), reply_after=9)
    talk(at(3, 4, 15), reply_after=14)
    # ...one answered 25 minutes late before any scan saw it (the reply itself records the miss)...
    talk(at(3, 5, 10), reply_after=40)
    # ...one escalated by the scan, then answered (the breach stays on the timeline)...
    talk(at(3, 6, 10), scan_after=20, reply_after=30)
    # ...and one never answered, its deadline past, not yet seen by a scan.
    talk(at(3, 8, 20))
    # The week after, missed: not last week's business.
    talk(at(3, 9, 7))

    time_machine.move_to(MONDAY_0830, tick=False)
    data = weekly.build(cast.workspace, WEEK)
    sla = data["sla"]
    assert (sla["conversations"], sla["breached"]) == (7, 3)
    assert sla["first_response"]["median"] == 11.5  # 3, 5, 9, 14, 30, 40 minutes
    assert sla["compliance"] == round(100 * 4 / 7, 1) == 57.1
    assert sla["previous"]["compliance"] == 50.0

    owner = cast.users["owner"]
    owner.language = "sk"
    owner.save()
    mail.outbox.clear()
    weekly.send(cast.workspace, WEEK)
    [message] = [m for m in mail.outbox if m.to == ["owner@salon.example"]]
    html = message.alternatives[0][0]
    # The headline figure, with the reader's decimal comma, and the week before beside it.
    assert "<strong>57,1 %</strong>" in html
    assert "50,0 %" in html.split("<strong>57,1 %</strong>", 1)[1].split("</tr>", 1)[0]
    assert "57,1 %" in message.body


def test_sent_once_per_week_on_monday_from_eight(salon, run_tasks, time_machine):
    time_machine.move_to(TOO_EARLY, tick=False)
    tasks_reports.send_weekly_reports()
    assert mail.outbox == [] and not WeeklyReport.objects.exists()

    time_machine.move_to(MONDAY_0830, tick=False)
    tasks_reports.send_weekly_reports()
    tasks_reports.send_weekly_reports()  # the hourly task again, or a second worker
    time_machine.move_to(MONDAY_0830 + timedelta(hours=1), tick=False)
    tasks_reports.send_weekly_reports()
    # Each workspace's owners get their own workspace's report, once.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "owner@rival.example",
        "owner@salon.example",
        "second-owner@salon.example",
    ]
    report = WeeklyReport.objects.get(workspace=salon)
    assert report.week_start == WEEK and report.sent_at == MONDAY_0830
    assert sorted(report.recipients) == ["owner@salon.example", "second-owner@salon.example"]

    # The next Monday brings the next week's report.
    time_machine.move_to(MONDAY_0830 + timedelta(days=7), tick=False)
    tasks_reports.send_weekly_reports()
    assert len(mail.outbox) == 6
    assert list(WeeklyReport.objects.filter(workspace=salon).values_list("week_start", flat=True)) == [
        WEEK + timedelta(days=7),
        WEEK,
    ]


def test_other_days_send_nothing(salon, run_tasks, time_machine):
    time_machine.move_to(MONDAY_0830 + timedelta(days=1), tick=False)  # Tuesday
    tasks_reports.send_weekly_reports()
    assert mail.outbox == []


def test_the_email_each_owner_gets(salon, time_machine):
    time_machine.move_to(MONDAY_0830, tick=False)
    weekly.send(salon, WEEK)
    by_owner = {m.to[0]: m for m in mail.outbox}
    message = by_owner["owner@salon.example"]
    html, kind = message.alternatives[0]
    assert kind == "text/html" and '<html lang="sk">' in html
    assert '<html lang="ru">' in by_owner["second-owner@salon.example"].alternatives[0][0]
    assert "Salon Leninsky" in message.subject and "\n" not in message.subject
    # A service name carrying markup arrives as text in both parts.
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Укладка" in html
    assert "<script" not in html
    assert SCRIPT in message.body
    assert 'href="https://vk.com/wall-1_5" rel="nofollow noopener noreferrer ugc"' in html
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("weekly-salon-2026-03-02.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


def test_the_pdf_keeps_cyrillic_and_slovak_letters(salon):
    text = pdf_text(weekly_pdf.render(weekly.build(salon, WEEK), "sk"))
    for word in ("Стрижка мужская", "Žilina", "ľahký", "účes", "Мастера", "Jarná zľava"):
        assert word in text
    assert "<script>alert('x')</script> Укладка" in text  # drawn as text, never run


def test_the_pdf_renderer_fetches_nothing(mock_api):
    mock_api.route("GET", "/logo.png")(lambda request: (200, {"Content-Type": "image/png"}, b"\x89PNG"))
    fetcher = weekly_pdf.RefuseAll()
    html = (
        f'<link rel="stylesheet" href="{mock_api.base}/style.css">'
        f'<p>Žilina</p><img src="{mock_api.base}/logo.png"><img src="file:///etc/passwd">'
    )
    pdf = weekly_pdf.html_to_pdf(html, fetcher)
    assert pdf.startswith(b"%PDF") and "Žilina" in pdf_text(pdf)
    assert mock_api.requests == []
    assert f"{mock_api.base}/logo.png" in fetcher.refused and "file:///etc/passwd" in fetcher.refused


def test_a_week_claimed_is_not_sent_again(salon, time_machine):
    time_machine.move_to(MONDAY_0830, tick=False)
    assert weekly.send(salon, WEEK) is not None
    assert weekly.send(salon, WEEK + timedelta(days=3)) is None  # the same week
    assert len(mail.outbox) == 2


def test_a_week_nobody_received_is_tried_again(salon, run_tasks, time_machine, monkeypatch):
    time_machine.move_to(MONDAY_0830, tick=False)

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("the mail server went away")

    monkeypatch.setattr(weekly.EmailMultiAlternatives, "send", refuse)
    with pytest.raises(weekly.NotSent):
        weekly.send(salon, WEEK)
    assert WeeklyReport.objects.get(workspace=salon).sent_at is None
    assert (salon.pk, WEEK) in weekly.due()
    monkeypatch.undo()
    time_machine.move_to(MONDAY_0830 + timedelta(hours=1), tick=False)
    tasks_reports.send_weekly_reports()
    assert sorted(m.to[0] for m in mail.outbox if m.to[0].endswith("@salon.example")) == [
        "owner@salon.example",
        "second-owner@salon.example",
    ]
    assert WeeklyReport.objects.get(workspace=salon).sent_at is not None


def test_the_command_writes_the_pdf(salon, tmp_path):
    target = tmp_path / "report.pdf"
    result = CliRunner().invoke(
        audience, ["weekly", "--workspace", "salon", "--week", "2026-03-05", "--pdf", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {target}: week 2026-03-02")
    assert "Žilina" in pdf_text(target.read_bytes())
    assert mail.outbox == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workspace", "nowhere"], "no workspace 'nowhere'"),
        (["--workspace", "salon", "--week", "March"], "--week 'March'"),
        (["--workspace", "salon", "--language", "de"], "--language 'de'"),
        (["--workspace", "salon", "--pdf", "/nonexistent-dir/x.pdf"], "--pdf /nonexistent-dir/x.pdf"),
    ],
)
def test_the_command_refuses_bad_input(salon, args, message):
    result = CliRunner().invoke(audience, ["weekly", *args])
    assert result.exit_code == 2
    assert message in result.output
