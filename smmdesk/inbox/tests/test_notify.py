"""Notices: stored once per member and key, in the reader's language, delivered by e-mail and Telegram
after commit, once even when the delivery task runs twice."""

import json
import threading
from datetime import datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from django.utils.dates import WEEKDAYS

from smmdesk.business.models import Department, OpeningHours
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import notify, sla_tasks
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Notification

YEKT = ZoneInfo("Asia/Yekaterinburg")
BOT_TOKEN = "123456:test-bot-token"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def huey_now():
    """Tasks run as soon as they are queued (the queue is in memory meanwhile)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.fixture
def members(cast):
    return {role: user.memberships.get() for role, user in cast.users.items()}


@pytest.fixture
def conversation(cast, time_machine):
    for weekday in range(5):
        OpeningHours.objects.create(workspace=cast.workspace, weekday=weekday, opens=time(9), closes=time(18))
    channel = Channel(workspace=cast.workspace, kind="fake", name="VK")
    channel.store_config(FakeConfig(account_id="salon-vk", api_token="token-123456"))
    channel.save()
    when = datetime(2026, 1, 5, 10, 0, tzinfo=YEKT)
    time_machine.move_to(when, tick=False)
    event = InboundEvent(
        external_id="m1",
        kind="dm",
        author_id="cust-1",
        author_name="Анна",
        text="Можно записаться?",
        created_at=when,
    )
    result = ingest(channel, [event])
    return Conversation.objects.get(messages__pk=result.created[0])


class TelegramStub:
    """A local stand-in for the Bot API: records what was posted and answers like Telegram."""

    def __init__(self):
        self.requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.requests.append((self.path, json.loads(body)))
                answer = json.dumps({"ok": True, "result": {"message_id": len(stub.requests)}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def telegram(settings):
    stub = TelegramStub()
    settings.SMMDESK_TELEGRAM_API_URL = stub.url
    settings.SMMDESK_TELEGRAM_BOT_TOKEN = BOT_TOKEN
    yield stub
    stub.stop()


def test_a_notice_is_stored_once_per_member_and_key(cast, members, conversation):
    recipients = [members["owner"], members["agent"], members["agent"]]
    first = notify.notify(recipients, conversation, "sla_warning", "Reply soon", "k:1", email=False)
    assert len(first) == 2
    again = notify.notify(
        [members["owner"], members["viewer"]], conversation, "sla_warning", "Reply soon", "k:1", email=False
    )
    assert [n.membership for n in again] == [members["viewer"]]
    assert Notification.objects.filter(key="k:1").count() == 3
    assert notify.notify([], conversation, "sla_warning", "x", "k:2") == []


def test_a_notice_reads_in_each_members_language(cast, members, conversation):
    russian = cast.users["agent"]
    russian.language = "ru"
    russian.save()
    notify.notify(
        [members["agent"], members["owner"]],
        conversation,
        "mention",
        lambda: str(WEEKDAYS[0]),
        "k:lang",
        email=False,
    )
    texts = {n.membership.role: n.text for n in Notification.objects.all()}
    assert texts == {"agent": "Понедельник", "owner": "Monday"}


def test_long_text_is_cut_to_the_column_and_whitespace_folded(members, conversation):
    [row] = notify.notify(
        [members["owner"]], conversation, "mention", "a\n\nb " + "x" * 400, "k:long", email=False
    )
    assert row.text.startswith("a b x") and len(row.text) == 300 and row.text.endswith("…")


def test_email_is_sent_after_commit_and_once_even_if_the_task_runs_twice(
    cast, members, conversation, huey_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify.notify(
            [members["agent"], members["owner"]], conversation, "sla_warning", "Reply by 10:10", "k:mail"
        )
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["agent@salon.example", "owner@salon.example"]
    assert "Reply by 10:10" in mail.outbox[0].subject and "Salon Leninsky" in mail.outbox[0].subject
    ids = list(Notification.objects.values_list("pk", flat=True))
    sla_tasks.deliver_notifications_task.call_local(ids, True)  # a second run, as after a crash
    assert len(mail.outbox) == 2


def test_no_email_when_asked_not_to_or_for_an_inactive_user(
    cast, members, conversation, huey_now, django_capture_on_commit_callbacks
):
    cast.users["viewer"].is_active = False
    cast.users["viewer"].save()
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify([members["agent"]], conversation, "mention", "hi", "k:quiet", email=False)
        notify.notify([members["viewer"]], conversation, "mention", "hi", "k:gone")
    assert mail.outbox == []


def test_a_failing_mail_server_leaves_the_notice_in_the_ui(members, conversation, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    [row] = notify.notify([members["agent"]], conversation, "mention", "hi", "k:smtp", email=False)
    row.refresh_from_db()
    notify.deliver([row.pk])
    assert "notice e-mail failed" in caplog.text
    assert notify.unread_for(members["agent"]) == [row]


def test_department_notice_goes_to_its_telegram_chat(
    cast, members, conversation, telegram, huey_now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(
            [members["agent"]],
            conversation,
            "sla_warning",
            "Deadline near: first response due 10:10 — <b>Можно</b>",
            "k:tg",
            email=False,
            telegram_chat_id="-1001234567890",
        )
    [(path, body)] = telegram.requests
    assert path == f"/bot{BOT_TOKEN}/sendMessage"
    assert body["chat_id"] == "-1001234567890"
    assert body["text"] == "Deadline near: first response due 10:10 — <b>Можно</b>"
    assert "parse_mode" not in body  # plain text: a customer's markup is shown, never interpreted
    ids = list(Notification.objects.values_list("pk", flat=True))
    sla_tasks.deliver_notifications_task.call_local(ids, False, "-1001234567890", "again")
    assert len(telegram.requests) == 1


def test_sla_warning_reaches_the_department_chat_and_members_by_email(
    cast, members, conversation, telegram, huey_now, time_machine, django_capture_on_commit_callbacks
):
    department = Department.objects.create(
        workspace=cast.workspace, name="Colourists", telegram_chat_id="@salon_team"
    )
    department.members.add(members["agent"])
    conversation.department = department
    conversation.save()
    time_machine.move_to(datetime(2026, 1, 5, 10, 8, tzinfo=YEKT), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_tasks.scan(timezone.now()) == (1, 0)
    assert [m.to for m in mail.outbox] == [["agent@salon.example"]]
    assert "10:10" in mail.outbox[0].body
    [(_path, body)] = telegram.requests
    assert body["chat_id"] == "@salon_team" and "10:10" in body["text"]


def test_breach_escalation_is_emailed_to_the_managers_and_owner(
    cast, conversation, huey_now, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(datetime(2026, 1, 5, 10, 10, tzinfo=YEKT), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_tasks.scan(timezone.now()) == (0, 1)
        assert sla_tasks.scan(timezone.now()) == (0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@salon.example", "smm_manager@salon.example"]


def test_telegram_is_skipped_without_a_bot_token(settings, caplog):
    settings.SMMDESK_TELEGRAM_BOT_TOKEN = ""
    assert notify.send_telegram("-100", "hi") is False


def test_a_refusing_bot_api_is_logged_without_the_token(settings, caplog):
    from smmdesk.lib.crypto import RedactSecretsFilter

    caplog.handler.addFilter(RedactSecretsFilter())  # as the configured log handler does
    stub = TelegramStub()
    stub.httpd.RequestHandlerClass.do_POST = lambda self: (self.send_response(403), self.end_headers())
    settings.SMMDESK_TELEGRAM_API_URL, settings.SMMDESK_TELEGRAM_BOT_TOKEN = stub.url, BOT_TOKEN
    try:
        assert notify.send_telegram("-100", "hi") is False
    finally:
        stub.stop()
    assert "Telegram notice to chat -100 failed" in caplog.text and BOT_TOKEN not in caplog.text


def test_unread_and_mark_read_only_touch_the_members_own_notices(members, conversation):
    mine = notify.notify([members["agent"]], conversation, "mention", "one", "k:a", email=False)
    notify.notify([members["agent"]], conversation, "mention", "two", "k:b", email=False)
    theirs = notify.notify([members["owner"]], conversation, "mention", "three", "k:c", email=False)
    mine[0].refresh_from_db()
    theirs[0].refresh_from_db()
    assert [n.text for n in notify.unread_for(members["agent"])] == ["two", "one"]
    assert notify.mark_read(members["agent"], [mine[0].pk, theirs[0].pk]) == 1
    assert [n.text for n in notify.unread_for(members["agent"])] == ["two"]
    assert notify.unread_for(members["owner"])[0].read_at is None
    assert notify.mark_read(members["agent"]) == 1
    assert notify.unread_for(members["agent"]) == []
