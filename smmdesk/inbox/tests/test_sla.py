"""The SLA clock under time-machine: business hours, holidays, pause and resume, stop on resolve,
warnings at 80 %, escalation on breach, and acknowledgements outside opening hours.

The salon opens Monday to Friday 09:00-18:00 in Asia/Yekaterinburg (UTC+5). 5 January 2026 is a Monday.
"""

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from smmdesk.business.models import Department, HolidayException, OpeningHours
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import sla, sla_tasks
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import (
    Conversation,
    Message,
    Notification,
    Priority,
    SlaPolicy,
    Status,
    TimelineEvent,
)

YEKT = ZoneInfo("Asia/Yekaterinburg")
ids = itertools.count(1)


def at(day, hour, minute=0, second=0):
    """A wall-clock moment at the salon; day is the day of January 2026."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=YEKT)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def salon(cast):
    for weekday in range(5):
        OpeningHours.objects.create(workspace=cast.workspace, weekday=weekday, opens=time(9), closes=time(18))
    channel = Channel(workspace=cast.workspace, kind="fake", name="VK")
    channel.store_config(FakeConfig(account_id="salon-vk", api_token="token-123456"))
    channel.save()
    cast.channel = channel
    cast.members = {role: user.memberships.get() for role, user in cast.users.items()}
    return cast


@pytest.fixture
def write(salon, time_machine):
    """write(when, text=..., author=...) travels to `when`, takes in one customer message, and returns
    the conversation as the database has it."""

    def take_in(when, text="Здравствуйте! Хочу записаться на стрижку", author="cust-1"):
        time_machine.move_to(when, tick=False)
        event = InboundEvent(
            external_id=f"m{next(ids)}",
            kind="dm",
            author_id=author,
            author_name="Анна",
            text=text,
            created_at=when,
        )
        result = ingest(salon.channel, [event])
        return Conversation.objects.get(messages__pk=result.created[0])

    return take_in


def scan_at(time_machine, when):
    time_machine.move_to(when, tick=False)
    return sla_tasks.scan(timezone.now())


def change_status(conversation, new, when, time_machine):
    time_machine.move_to(when, tick=False)
    old, conversation.status = conversation.status, new
    sla.on_status(conversation, old, new, timezone.now())
    conversation.save()
    return conversation


def events(conversation, kind):
    return list(TimelineEvent.objects.filter(conversation=conversation, kind=kind))


# ---- deadlines in business hours ----


def test_message_just_before_closing_is_due_next_morning(write):
    conversation = write(at(5, 17, 55))
    assert conversation.first_response_due == at(6, 9, 5)
    assert conversation.due_at == conversation.first_response_due
    # A day of open time: 5 min on Monday, 9 h on Tuesday and Wednesday, 5 h 55 min on Thursday.
    assert conversation.resolution_due == at(8, 14, 55)
    assert conversation.next_response_due is None and conversation.sla_policy is None


def test_message_at_night_starts_the_clock_at_opening(write):
    conversation = write(at(6, 3, 0))
    assert conversation.first_response_due == at(6, 9, 10)


def test_weekend_and_holiday_are_skipped(salon, write):
    HolidayException.objects.create(workspace=salon.workspace, date=date(2026, 1, 12), note="Salon day off")
    conversation = write(at(9, 17, 55))  # Friday; Monday the 12th is the holiday
    assert conversation.first_response_due == at(13, 9, 5)


def test_a_policy_without_business_hours_counts_plain_minutes(salon, write):
    SlaPolicy.objects.create(workspace=salon.workspace, name="Always", business_hours=False)
    conversation = write(at(5, 17, 55))
    assert conversation.first_response_due == at(5, 18, 5)
    assert conversation.sla_policy.name == "Always"


def test_our_reply_stops_the_response_clock_and_the_next_message_starts_the_next_one(salon, write):
    conversation = write(at(5, 10, 0))
    sla.on_reply(conversation, at(5, 10, 4))
    conversation.save()
    assert conversation.first_response_at == at(5, 10, 4)
    assert conversation.first_response_due is None and conversation.due_at == conversation.resolution_due
    resolution_due = conversation.resolution_due

    conversation = write(at(5, 11, 0), text="А в субботу можно?")
    assert conversation.next_response_due == at(5, 11, 30)
    assert conversation.due_at == at(5, 11, 30)
    assert conversation.resolution_due == resolution_due  # resolution counts from the first message
    conversation = write(at(5, 11, 10), text="Или в пятницу")
    assert conversation.next_response_due == at(5, 11, 30)  # the first unanswered message sets it


def test_deadline_state_for_the_ui(write, time_machine):
    conversation = write(at(5, 10, 0))  # first response due 10:10; the last fifth starts at 10:08
    assert sla.deadline_state(conversation, at(5, 10, 7, 59)) == "ok"
    assert sla.deadline_state(conversation, at(5, 10, 8)) == "warning"
    assert sla.deadline_state(conversation, at(5, 10, 10)) == "breached"
    change_status(conversation, Status.RESOLVED, at(5, 10, 9), time_machine)
    assert sla.deadline_state(conversation, at(5, 10, 20)) is None
    states = sla.deadline_states(Conversation.objects.select_related("sla_policy"), at(5, 10, 20))
    assert states == {conversation.pk: None}


# ---- pause and resume ----


def test_waiting_on_the_customer_pauses_and_resuming_moves_the_deadline(salon, write, time_machine):
    conversation = write(at(5, 10, 0))  # due 10:10
    change_status(conversation, Status.WAITING_CUSTOMER, at(5, 10, 4), time_machine)
    assert conversation.sla_paused_at == at(5, 10, 4)
    # Long past the deadline while paused: nothing to warn about, nothing missed.
    assert scan_at(time_machine, at(5, 12, 0)) == (0, 0)
    assert sla.deadline_state(conversation, at(5, 12, 0)) is None

    change_status(conversation, Status.OPEN, at(5, 12, 0), time_machine)
    assert conversation.sla_paused_at is None
    assert conversation.first_response_due == at(5, 12, 6)  # the 6 minutes left when paused
    assert conversation.due_at == at(5, 12, 6)
    assert conversation.resolution_due == at(7, 17, 56)  # Wednesday 16:00, moved by the 1 h 56 min paused


def test_pause_counts_business_time_and_the_customer_resumes_it(salon, write, time_machine):
    conversation = write(at(5, 17, 50))  # due at closing, 18:00: all 10 minutes are open time
    assert conversation.first_response_due == at(5, 18, 0)
    change_status(conversation, Status.WAITING_CUSTOMER, at(5, 17, 54), time_machine)
    # The customer answers on Wednesday morning: ingest reopens the conversation and the clock resumes
    # with the 6 open minutes that were left (17:54-18:00 on Monday).
    conversation = write(at(7, 9, 30), text="Я тут")
    assert conversation.status == Status.OPEN and conversation.sla_paused_at is None
    assert conversation.first_response_due == at(7, 9, 36)


# ---- stop on resolve (the clock Chatwoot's users see running after resolve) ----


def test_resolve_stops_the_clock_and_no_scan_ever_warns_or_escalates(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    change_status(conversation, Status.RESOLVED, at(5, 10, 5), time_machine)
    conversation.refresh_from_db()
    assert conversation.due_at is None
    assert (conversation.first_response_due, conversation.next_response_due, conversation.resolution_due) == (
        None,
        None,
        None,
    )
    for when in (at(5, 10, 8), at(5, 10, 10), at(6, 10, 0), at(20, 12, 0)):
        assert scan_at(time_machine, when) == (0, 0)
    sla_tasks.scan_sla.call_local()
    conversation.refresh_from_db()
    assert conversation.sla_warned_at is None and conversation.sla_breached_at is None
    assert not events(conversation, TimelineEvent.Kind.SLA_WARNING)
    assert not events(conversation, TimelineEvent.Kind.SLA_BREACH)
    assert not Notification.objects.exists()


def test_closing_stops_the_clock_too_and_a_new_message_starts_a_fresh_one(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    sla.on_reply(conversation, at(5, 10, 2))
    change_status(conversation, Status.CLOSED, at(5, 10, 3), time_machine)
    assert scan_at(time_machine, at(9, 10, 0)) == (0, 0)
    conversation = write(at(9, 10, 0), text="Снова я")
    assert conversation.status == Status.OPEN
    assert conversation.next_response_due == at(9, 10, 30)
    assert conversation.resolution_due == at(13, 16, 0)  # a fresh day of open time, over the weekend


# ---- warnings ----


def test_warning_at_80_percent_exactly_once(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    conversation.assignee = salon.members["agent"]
    conversation.save()
    assert scan_at(time_machine, at(5, 10, 7, 59)) == (0, 0)
    assert scan_at(time_machine, at(5, 10, 8)) == (1, 0)
    assert scan_at(time_machine, at(5, 10, 8)) == (0, 0)  # the same minute's scan again
    assert scan_at(time_machine, at(5, 10, 9)) == (0, 0)
    warnings = events(conversation, TimelineEvent.Kind.SLA_WARNING)
    assert len(warnings) == 1 and warnings[0].detail["deadline"] == "first_response"
    notices = list(Notification.objects.all())
    assert [(n.membership, n.kind) for n in notices] == [(salon.members["agent"], "sla_warning")]
    assert "10:10" in notices[0].text and "Хочу записаться" in notices[0].text
    conversation.refresh_from_db()
    assert conversation.sla_warned_at == at(5, 10, 8)


def test_warning_counts_open_time_across_the_night(salon, write, time_machine):
    write(at(5, 17, 55))  # due Tuesday 09:05; 8 of its 10 open minutes are used at 09:03
    assert scan_at(time_machine, at(5, 17, 59)) == (0, 0)
    assert scan_at(time_machine, at(6, 3, 0)) == (0, 0)
    assert scan_at(time_machine, at(6, 9, 2)) == (0, 0)
    assert scan_at(time_machine, at(6, 9, 3)) == (1, 0)


def test_a_warning_for_a_long_deadline_is_found_days_ahead(salon, write, time_machine):
    SlaPolicy.objects.create(
        workspace=salon.workspace, name="Slow", first_response_minutes=3000, resolution_minutes=6000
    )
    # 50 open hours: due next Monday 15:00; the last 10 open hours start on Friday at 14:00.
    conversation = write(at(5, 10, 0))
    assert conversation.first_response_due == at(12, 15, 0)
    assert scan_at(time_machine, at(9, 13, 59)) == (0, 0)
    assert scan_at(time_machine, at(9, 14, 0)) == (1, 0)


def test_two_workers_claiming_the_same_warning_notify_once(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    time_machine.move_to(at(5, 10, 8), tick=False)
    first, second = Conversation.objects.get(pk=conversation.pk), Conversation.objects.get(pk=conversation.pk)
    assert sla.warn(first, timezone.now()) is True
    assert sla.warn(second, timezone.now()) is False
    assert len(events(conversation, TimelineEvent.Kind.SLA_WARNING)) == 1


def test_warning_goes_to_the_department_then_to_the_smm_managers(salon, write, time_machine):
    department = Department.objects.create(workspace=salon.workspace, name="Colourists")
    department.members.add(salon.members["agent"], salon.members["content_manager"])
    first = write(at(5, 10, 0), author="cust-1")
    first.department = department
    first.save()
    write(at(5, 10, 0), author="cust-2")
    scan_at(time_machine, at(5, 10, 8))
    by_member = {(n.conversation_id, n.membership.role) for n in Notification.objects.all()}
    others = Conversation.objects.exclude(pk=first.pk).get()
    assert by_member == {
        (first.pk, "agent"),
        (first.pk, "content_manager"),
        (others.pk, "smm_manager"),
    }


def test_reply_after_a_warning_lets_the_next_deadline_warn_again(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    assert scan_at(time_machine, at(5, 10, 8)) == (1, 0)
    time_machine.move_to(at(5, 10, 9), tick=False)
    conversation.refresh_from_db()
    sla.on_reply(conversation, timezone.now())
    conversation.save()
    assert conversation.sla_warned_at is None
    conversation = write(at(5, 11, 0), text="Спасибо, а цена?")  # next response due 11:30
    assert scan_at(time_machine, at(5, 11, 24)) == (1, 0)
    kinds = [e.detail["deadline"] for e in events(conversation, TimelineEvent.Kind.SLA_WARNING)]
    assert kinds == ["first_response", "next_response"]


# ---- breach and escalation ----


def test_breach_escalates_to_smm_manager_and_owner_exactly_once(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    conversation.assignee = salon.members["agent"]
    conversation.save()
    assert scan_at(time_machine, at(5, 10, 8)) == (1, 0)
    assert scan_at(time_machine, at(5, 10, 10)) == (0, 1)
    assert scan_at(time_machine, at(5, 10, 10)) == (0, 0)
    assert scan_at(time_machine, at(5, 10, 30)) == (0, 0)
    breaches = events(conversation, TimelineEvent.Kind.SLA_BREACH)
    assert len(breaches) == 1 and breaches[0].detail["deadline"] == "first_response"
    escalated = sorted(n.membership.role for n in Notification.objects.filter(kind="sla_breach"))
    assert escalated == ["agent", "owner", "smm_manager"]
    assert sla.deadline_state(conversation, at(5, 10, 30)) == "breached"


def test_a_missed_deadline_without_a_warning_is_still_escalated_once(salon, write, time_machine):
    write(at(5, 10, 0))
    # The worker was down through the warning window.
    assert scan_at(time_machine, at(5, 11, 0)) == (0, 1)
    assert scan_at(time_machine, at(5, 11, 1)) == (0, 0)
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.SLA_WARNING).exists()


def test_a_late_reply_between_scans_still_records_the_miss(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    time_machine.move_to(at(5, 10, 10, 30), tick=False)
    sla.on_reply(conversation, timezone.now())
    conversation.save()
    assert scan_at(time_machine, at(5, 10, 11)) == (0, 0)
    assert [e.detail["deadline"] for e in events(conversation, TimelineEvent.Kind.SLA_BREACH)] == [
        "first_response"
    ]
    assert not Notification.objects.exists()  # nobody to chase: it is answered


# ---- acknowledgement outside opening hours ----


def acknowledgements(conversation):
    return list(
        conversation.messages.filter(direction=Message.Direction.OUT, idempotency_key__startswith="autoack:")
    )


def test_acknowledgement_once_per_closed_period(salon, write):
    SlaPolicy.objects.create(workspace=salon.workspace, name="Nights", auto_acknowledge=True)
    conversation = write(at(5, 20, 0), text="Hello, can I book a haircut?")
    write(at(5, 23, 0), text="Hello again?")
    write(at(6, 8, 59), text="Anyone?")
    [ack] = acknowledgements(conversation)
    assert ack.delivery == Message.Delivery.PENDING and ack.author is None
    assert "Tue 6 January, 09:00" in ack.text and "Mon–Fri 09:00–18:00" in ack.text
    assert len(events(conversation, TimelineEvent.Kind.AUTO_ACK)) == 1
    conversation = write(at(6, 10, 0), text="Still there?")  # open: no acknowledgement
    assert len(acknowledgements(conversation)) == 1
    conversation = write(at(6, 19, 0), text="Tomorrow then")  # the next closed period
    assert len(acknowledgements(conversation)) == 2
    # An acknowledgement is not an answer: the first response is still owed.
    conversation.refresh_from_db()
    assert conversation.first_response_at is None and conversation.first_response_due == at(6, 9, 10)


def test_acknowledgement_speaks_the_customers_language(salon, write):
    SlaPolicy.objects.create(workspace=salon.workspace, name="Nights", auto_acknowledge=True)
    conversation = write(at(10, 12, 0), text="Здравствуйте, вы работаете в воскресенье?")  # Saturday
    [ack] = acknowledgements(conversation)
    assert "Пн–Пт 09:00–18:00" in ack.text  # Russian day names
    assert "12 января" in ack.text  # opens Monday the 12th


def test_no_acknowledgement_without_the_policy_or_while_open(salon, write):
    conversation = write(at(5, 20, 0))
    assert acknowledgements(conversation) == []
    SlaPolicy.objects.create(workspace=salon.workspace, name="Nights", auto_acknowledge=True)
    conversation = write(at(5, 12, 0), author="cust-2")
    assert acknowledgements(conversation) == []


# ---- which policy applies ----


def test_most_specific_policy_wins(salon):
    other_channel = Channel(workspace=salon.workspace, kind="fake", name="Mail")
    other_channel.store_config(FakeConfig(account_id="salon-mail", api_token="token-654321"))
    other_channel.save()
    department = Department.objects.create(workspace=salon.workspace, name="Complaints")
    conversation = Conversation(
        workspace=salon.workspace,
        channel=salon.channel,
        kind="dm",
        thread_key="dm:x",
        priority=Priority.URGENT,
        department=department,
    )
    default = sla.policy_for(conversation)
    assert default.pk is None and (default.first_response_minutes, default.next_response_minutes) == (10, 30)
    assert default.resolution_minutes == 1440 and default.business_hours

    def policy(name, **scope):
        return SlaPolicy.objects.create(workspace=salon.workspace, name=name, **scope)

    everywhere = policy("Everywhere")
    assert sla.policy_for(conversation) == everywhere
    urgent = policy("Urgent", priority=Priority.URGENT)
    policy("Other channel", channel=other_channel)  # does not match
    policy("Low", priority=Priority.LOW)  # does not match
    assert sla.policy_for(conversation) == urgent
    complaints = policy("Complaints", department=department)
    assert sla.policy_for(conversation) == complaints  # a department beats a priority on a tie
    vk = policy("VK", channel=salon.channel)
    assert sla.policy_for(conversation) == vk  # a channel beats a department on a tie
    vk_urgent = policy("VK urgent", channel=salon.channel, priority=Priority.URGENT)
    assert sla.policy_for(conversation) == vk_urgent  # two conditions beat one
    SlaPolicy.objects.create(workspace=salon.other, name="Rival", channel=None, priority=Priority.URGENT)
    assert sla.policy_for(conversation) == vk_urgent


def test_deleting_a_policy_keeps_the_clock_on_the_default_spans(salon, write, time_machine):
    policy = SlaPolicy.objects.create(workspace=salon.workspace, name="Quick", first_response_minutes=5)
    conversation = write(at(5, 10, 0))
    assert conversation.first_response_due == at(5, 10, 5)
    policy.delete()
    # The deadline stays; the warning now uses the default's 10-minute span: its last fifth is 2 minutes.
    assert scan_at(time_machine, at(5, 10, 2, 59)) == (0, 0)
    assert scan_at(time_machine, at(5, 10, 3)) == (1, 0)


def test_the_periodic_task_runs_the_scan(salon, write, time_machine):
    conversation = write(at(5, 10, 0))
    time_machine.move_to(at(5, 10, 11), tick=False)
    sla_tasks.scan_sla.call_local()
    conversation.refresh_from_db()
    assert conversation.sla_breached_at == at(5, 10, 11)


def test_business_seconds_between_two_moments(salon):
    from smmdesk.business.hours import schedule_for

    schedule = schedule_for(salon.workspace)
    assert sla.business_seconds(schedule, at(5, 17, 0), at(6, 10, 0)) == 2 * 3600
    assert sla.business_seconds(schedule, at(9, 17, 0), at(12, 9, 30)) == 90 * 60
    assert sla.business_seconds(schedule, at(6, 10, 0), at(6, 9, 0)) == 0
    assert sla.business_seconds(schedule, at(5, 9, 0), at(5, 9, 0) + timedelta(days=30)) == 22 * 9 * 3600


def test_a_batch_reads_policies_and_hours_once_per_workspace(
    salon, write, time_machine, django_assert_num_queries
):
    SlaPolicy.objects.create(workspace=salon.workspace, name="Everywhere")
    conversations = [write(at(5, 10, minute), author=f"cust-{minute}") for minute in range(5)]
    with sla.batch(), django_assert_num_queries(4):  # policies, then profile, hours and holidays
        for conversation in conversations:
            sla.on_inbound(conversation, at(5, 11, 0))
    with django_assert_num_queries(4):
        states = sla.deadline_states(
            Conversation.objects.select_related("sla_policy"), at(5, 10, 5)
        )  # one query for the rows, three for the schedule
    assert sorted(states.values()) == ["ok"] * 5
    assert sla.policy_for(conversations[0]).name == "Everywhere"  # outside a batch, read fresh


def test_risk_filters_follow_the_scan(salon, write, time_machine):
    late = write(at(5, 10, 0), author="cust-1")
    near = write(at(5, 10, 2), author="cust-2")
    calm = write(at(5, 10, 9), author="cust-3")
    scan_at(time_machine, at(5, 10, 10))
    now = timezone.now()
    pick = {
        state: set(Conversation.objects.filter(sla.risk_q(state, now)).values_list("pk", flat=True))
        for state in ("breached", "warning", "ok")
    }
    assert pick == {"breached": {late.pk}, "warning": {near.pk}, "ok": {calm.pk}}
    with pytest.raises(ValueError):
        sla.risk_q("soon", now)
