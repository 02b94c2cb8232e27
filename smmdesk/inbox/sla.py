"""SLA clock: deadlines in business hours, pause while waiting on the customer, stop on resolve,
warnings at 80 % and escalation on breach, and the acknowledgement of messages outside opening hours.

Three deadlines run per conversation: first response, next response (after the customer answers our
reply) and resolution. `due_at` holds the nearest open one so the inbox sorts by urgency on an index.
The hooks (`on_inbound`, `on_reply`, `on_status`) only change fields; their callers save (SLA_FIELDS
lists what they touch). The periodic `scan` warns and escalates; each step is claimed with a conditional
UPDATE, so a scan that runs twice, or two workers scanning at once, notify once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smmdesk.business import hours
from smmdesk.business.hours import Schedule, next_open, schedule_for
from smmdesk.inbox import canned, memo, notify
from smmdesk.inbox.models import ACTIVE_STATUSES, Conversation, Message, SlaPolicy, Status, TimelineEvent

# The warning comes when a fifth of the deadline's span is left: "at 80 % of a deadline".
WARN_DIVISOR = 5
DEADLINES = {
    "first_response": ("first_response_due", "first_response_minutes", gettext_lazy("first response")),
    "next_response": ("next_response_due", "next_response_minutes", gettext_lazy("next response")),
    "resolution": ("resolution_due", "resolution_minutes", gettext_lazy("resolution")),
}
DUE_FIELDS = tuple(field for field, _minutes, _label in DEADLINES.values())
# What the hooks may change, for callers that save with update_fields.
SLA_FIELDS = (
    "sla_policy",
    *DUE_FIELDS,
    "due_at",
    "sla_paused_at",
    "sla_warned_at",
    "sla_breached_at",
    "first_response_at",
)
ACK_LANGUAGES = ("en", "ru", "sk")


def default_policy(workspace_id: int | None = None) -> SlaPolicy:
    """The policy in force when a workspace has none that matches: the model's defaults (10 minutes to
    a first response, 30 to the next, a day to resolve, in business hours). Never saved."""
    return SlaPolicy(workspace_id=workspace_id, name=str(_("Default")))


def _specificity(policy: SlaPolicy) -> tuple:
    # More conditions win; on a tie a channel beats a department beats a priority; then the oldest.
    scope = (policy.channel_id is not None, policy.department_id is not None, policy.priority is not None)
    return (sum(scope), *scope, -policy.pk)


# Wrap loops that run the hooks for many messages (ingestion) or show many conversations (the list).
batch = memo.batch
_remembered = memo.remembered


def policy_for(conversation: Conversation) -> SlaPolicy:
    """The most specific of the workspace's policies that match the conversation, else the default."""
    workspace_id = conversation.workspace_id
    policies = _remembered(
        ("policies", workspace_id), lambda: list(SlaPolicy.objects.filter(workspace_id=workspace_id))
    )
    candidates = [
        policy
        for policy in policies
        if policy.channel_id in (None, conversation.channel_id)
        and policy.priority in (None, conversation.priority)
        and policy.department_id in (None, conversation.department_id)
    ]
    best = max(candidates, key=_specificity, default=None)
    return best or default_policy(workspace_id)


def policy_in_force(conversation: Conversation) -> SlaPolicy:
    """The policy the running deadlines were set with (the default if it was deleted since)."""
    return conversation.sla_policy or default_policy(conversation.workspace_id)


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Open time between two instants, in seconds."""
    total, cursor = 0.0, start.astimezone(UTC)
    end = end.astimezone(UTC)
    while cursor < end:
        advanced = False
        # open_periods looks a bounded distance ahead; carry on from where it stopped.
        for period_start, period_end in hours.open_periods(schedule, cursor):
            advanced = True
            if period_start >= end:
                return total
            total += (min(period_end, end) - max(period_start, cursor)).total_seconds()
            cursor = period_end
            if cursor >= end:
                return total
        if not advanced:
            return total
    return total


class Clock:
    """Deadline arithmetic for one workspace: business minutes, or plain minutes when the policy says
    so. The schedule is read from the database at most once per clock."""

    def __init__(self, workspace_id: int, business: bool = True, schedule: Schedule | None = None):
        self.workspace_id = workspace_id
        self.business = business
        self._schedule = schedule

    @classmethod
    def of(cls, conversation: Conversation, policy: SlaPolicy | None = None, schedule=None) -> Clock:
        policy = policy or policy_in_force(conversation)
        return cls(conversation.workspace_id, policy.business_hours, schedule)

    @property
    def schedule(self) -> Schedule:
        if self._schedule is None:
            workspace_id = self.workspace_id
            self._schedule = _remembered(("schedule", workspace_id), lambda: schedule_for(workspace_id))
        return self._schedule

    def start(self, at: datetime) -> datetime:
        """When a clock started by something at `at` begins to count: the next opening if closed."""
        if not self.business:
            return at
        # A batch of messages shares one arrival time: the answer is the same for all of them.
        return _remembered(("start", self.workspace_id, at), lambda: self._start(at))

    def _start(self, at: datetime) -> datetime:
        try:
            return next_open(self.schedule, at).astimezone(UTC)
        except ValueError:  # a schedule that never opens: count plain time rather than never
            return at

    def add(self, start: datetime, minutes: float) -> datetime:
        if self.business:
            return _remembered(("add", self.workspace_id, start, minutes), lambda: self._add(start, minutes))
        return start + timedelta(minutes=minutes)

    def _add(self, start: datetime, minutes: float) -> datetime:
        if self.business:
            try:
                return hours.add_business_minutes(self.schedule, start, minutes).astimezone(UTC)
            except ValueError:
                pass
        return start + timedelta(minutes=minutes)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        if not self.business:
            return (end - start).total_seconds()
        return business_seconds(self.schedule, start, end)

    def is_open(self, at: datetime) -> bool:
        # Whatever the policy counts, "outside opening hours" means the schedule.
        return hours.is_open(self.schedule, at)


def nearest_deadline(conversation: Conversation) -> tuple[str, datetime] | None:
    """(kind, due) of the nearest open deadline; kind is a key of DEADLINES."""
    open_ones = [
        (getattr(conversation, field), kind)
        for kind, (field, _m, _l) in DEADLINES.items()
        if getattr(conversation, field) is not None
    ]
    if not open_ones:
        return None
    due, kind = min(open_ones)
    return kind, due


def _refresh_due(conversation: Conversation, *, keep_flags: bool = False) -> None:
    nearest = nearest_deadline(conversation)
    due = nearest[1] if nearest else None
    if due != conversation.due_at and not keep_flags:
        # Another deadline is now the nearest one: it gets its own warning and breach.
        conversation.sla_warned_at = conversation.sla_breached_at = None
    conversation.due_at = due


def on_inbound(conversation: Conversation, at: datetime) -> None:
    """A customer wrote (ingest has already reopened the conversation): resume a paused clock, start
    the first-response clock on the first message or the next-response clock after our reply, and
    the resolution clock if none runs. Outside opening hours the clock starts at the opening, and the
    policy may queue an acknowledgement. Does not save."""
    policy = policy_for(conversation)
    conversation.sla_policy = policy if policy.pk else None
    clock = Clock.of(conversation, policy)
    if conversation.sla_paused_at is not None:
        _resume(conversation, at, clock)
    start = clock.start(at)
    if conversation.first_response_at is None:
        if conversation.first_response_due is None:
            conversation.first_response_due = clock.add(start, policy.first_response_minutes)
    elif conversation.next_response_due is None:
        conversation.next_response_due = clock.add(start, policy.next_response_minutes)
    if conversation.resolution_due is None:
        conversation.resolution_due = clock.add(start, policy.resolution_minutes)
    _refresh_due(conversation)
    if policy.auto_acknowledge:
        # During ingestion the conversation may not be written yet; the acknowledgement needs its id.
        memo.later(_acknowledge_if_closed, conversation, at, clock)


def on_reply(conversation: Conversation, at: datetime) -> None:
    """We answered the customer: the response clocks stop; the resolution clock keeps running."""
    if conversation.first_response_at is None:
        conversation.first_response_at = at
    _record_missed(conversation, at, ("first_response", "next_response"))
    conversation.first_response_due = None
    conversation.next_response_due = None
    _refresh_due(conversation)


def on_status(conversation: Conversation, old: str, new: str, at: datetime) -> None:
    """Waiting on the customer pauses the clock, leaving that status resumes it with every open
    deadline moved by the business time spent paused, resolving or closing stops it. Does not save."""
    if new in (Status.RESOLVED, Status.CLOSED):
        _record_missed(conversation, at, tuple(DEADLINES))
        stop(conversation)
    elif new == Status.WAITING_CUSTOMER:
        if conversation.sla_paused_at is None:
            conversation.sla_paused_at = at
    elif conversation.sla_paused_at is not None:
        _resume(conversation, at, Clock.of(conversation))


def stop(conversation: Conversation) -> None:
    """No deadline runs any more; a new customer message starts fresh ones (see on_inbound). The
    warned and breached marks stay for the reports until then."""
    for field in DUE_FIELDS:
        setattr(conversation, field, None)
    conversation.due_at = None
    conversation.sla_paused_at = None


def _record_missed(conversation: Conversation, at: datetime, kinds: tuple[str, ...]) -> None:
    """A deadline met or stopped after it passed, before the scan noticed: the timeline still records
    the miss, for the reports. Nobody is escalated: the moment has passed."""
    moment = conversation.sla_paused_at or at
    for kind in kinds:
        due = getattr(conversation, DEADLINES[kind][0])
        if due is not None and due <= moment and conversation.pk is not None:
            _timeline_once(conversation, TimelineEvent.Kind.SLA_BREACH, kind, due, at)


def _resume(conversation: Conversation, at: datetime, clock: Clock) -> None:
    paused = conversation.sla_paused_at
    conversation.sla_paused_at = None
    if paused is None or at <= paused:
        return
    for field in DUE_FIELDS:
        due = getattr(conversation, field)
        # A deadline already missed when the pause began stays missed where it was.
        if due is not None and due > paused:
            left = clock.seconds_between(paused, due)
            setattr(conversation, field, clock.add(at, left / 60))
    # The same deadlines, moved: a warning already given stands.
    _refresh_due(conversation, keep_flags=True)


def in_last_fifth(conversation: Conversation, now: datetime, clock: Clock, policy: SlaPolicy) -> bool:
    """Whether 80 % of the nearest deadline's span (in the policy's minutes) is used up at `now`."""
    nearest = nearest_deadline(conversation)
    if nearest is None:
        return False
    kind, due = nearest
    span = getattr(policy, DEADLINES[kind][1]) * 60
    # Open time left is never more than time left, so a near deadline needs no schedule.
    if (due - now).total_seconds() * WARN_DIVISOR <= span:
        return True
    return clock.seconds_between(now, due) * WARN_DIVISOR <= span


def deadline_state(conversation: Conversation, now: datetime, schedule: Schedule | None = None) -> str | None:
    """ "ok", "warning" (80 % of the nearest deadline used), "breached", or None when no clock runs
    (resolved, closed, paused while waiting on the customer). Pass `schedule` when rendering many
    conversations of one workspace (see deadline_states)."""
    if (
        conversation.status not in ACTIVE_STATUSES
        or conversation.due_at is None
        or conversation.sla_paused_at is not None
    ):
        return None
    if conversation.due_at <= now:
        return "breached"
    if conversation.sla_warned_at is not None:  # the scan found this deadline in its last fifth
        return "warning"
    policy = policy_in_force(conversation)
    if in_last_fifth(conversation, now, Clock.of(conversation, policy, schedule), policy):
        return "warning"
    return "ok"


def deadline_states(conversations, now: datetime) -> dict[int, str | None]:
    """deadline_state for a page of conversations, reading each workspace's schedule once (select the
    conversations with select_related("sla_policy") to save a query per row)."""
    with batch():
        return {conversation.pk: deadline_state(conversation, now) for conversation in conversations}


def risk_q(state: str, now: datetime) -> Q:
    """A filter on conversations for the inbox's "SLA risk" choice: "breached", "warning" or "ok".

    "warning" relies on the scan's flag (it runs every minute), so it is one indexed condition instead
    of business-time arithmetic per row."""
    running = Q(status__in=ACTIVE_STATUSES, sla_paused_at__isnull=True, due_at__isnull=False)
    if state == "breached":
        return running & Q(due_at__lte=now)
    if state == "warning":
        return running & Q(due_at__gt=now, sla_warned_at__isnull=False)
    if state == "ok":
        return running & Q(due_at__gt=now, sla_warned_at__isnull=True)
    raise ValueError(f"unknown SLA risk {state!r}")


# ---- warnings and escalation (sla_tasks.scan finds the conversations) ----


def warn(conversation: Conversation, now: datetime, *, clock: Clock | None = None) -> bool:
    """Warn once that the nearest deadline is near: timeline, notice to the assignee (else the
    department's members, else the SMM managers). False if another scan did it first."""
    nearest = nearest_deadline(conversation)
    if nearest is None:
        return False
    kind, due = nearest
    clock = clock or Clock(conversation.workspace_id)
    with transaction.atomic():
        if not _claim(conversation, "sla_warned_at", now):
            return False
        _timeline_once(conversation, TimelineEvent.Kind.SLA_WARNING, kind, due, now)
        recipients, chat = notify.warning_recipients(conversation)
        notify.notify(
            recipients,
            conversation,
            "sla_warning",
            lambda: (
                _("Deadline near: %(deadline)s due %(time)s — %(subject)s")
                % _notice_values(conversation, kind, due, now, clock)
            ),
            f"sla_warning:{conversation.pk}:{kind}:{due.isoformat()}",
            telegram_chat_id=chat,
        )
    return True


def breach(conversation: Conversation, now: datetime, *, clock: Clock | None = None) -> bool:
    """Escalate a missed deadline once: timeline, notice to every SMM manager and owner (and the
    assignee). False if another scan did it first."""
    nearest = nearest_deadline(conversation)
    if nearest is None:
        return False
    kind, due = nearest
    clock = clock or Clock(conversation.workspace_id)
    with transaction.atomic():
        if not _claim(conversation, "sla_breached_at", now):
            return False
        _timeline_once(conversation, TimelineEvent.Kind.SLA_BREACH, kind, due, now)
        notify.notify(
            notify.escalation_recipients(conversation),
            conversation,
            "sla_breach",
            lambda: (
                _("Deadline missed: %(deadline)s was due %(time)s — %(subject)s")
                % _notice_values(conversation, kind, due, now, clock)
            ),
            f"sla_breach:{conversation.pk}:{kind}:{due.isoformat()}",
        )
    return True


def _claim(conversation: Conversation, flag: str, now: datetime) -> bool:
    # The deadline must still be the one this scan saw, and its clock still running.
    claimed = Conversation.objects.filter(
        pk=conversation.pk,
        due_at=conversation.due_at,
        status__in=ACTIVE_STATUSES,
        sla_paused_at__isnull=True,
        **{f"{flag}__isnull": True},
    ).update(**{flag: now})
    if claimed:
        setattr(conversation, flag, now)
    return bool(claimed)


def _timeline_once(conversation, kind, deadline: str, due: datetime, now: datetime) -> None:
    # A caller saving a stale copy of the conversation can clear the flag; the timeline still says it once.
    detail = {"deadline": deadline, "due": due.isoformat()}
    if not TimelineEvent.objects.filter(
        conversation=conversation, kind=kind, detail__deadline=deadline, detail__due=detail["due"]
    ).exists():
        TimelineEvent.objects.create(conversation=conversation, kind=kind, created_at=now, detail=detail)


def _notice_values(conversation, kind: str, due: datetime, now: datetime, clock: Clock) -> dict:
    tz = clock.schedule.tz
    local, today = due.astimezone(tz), now.astimezone(tz).date()
    when = f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"
    subject = " ".join((conversation.subject or str(conversation)).split())
    return {
        "deadline": DEADLINES[kind][2],
        "time": when,
        "subject": subject[:80] + ("…" if len(subject) > 80 else ""),
    }


# ---- acknowledgement of messages outside opening hours ----


def acknowledgement_text(conversation: Conversation, schedule: Schedule, opens_at: datetime) -> str:
    """The acknowledgement, in the active language."""
    opening = formats.date_format(opens_at.astimezone(schedule.tz), "D j E, H:i")
    language = translation.get_language()
    # A burst after hours acknowledges many new conversations of one workspace in one batch.
    week = _remembered(
        ("opening-hours-text", conversation.workspace_id, language),
        lambda: canned.opening_hours_text(conversation.workspace_id, language),
    )
    if not week:
        return _(
            "Thank you for your message! We are closed now and will answer when we open (%(opening)s)."
        ) % {"opening": opening}
    return _(
        "Thank you for your message! We are closed now and will answer when we open (%(opening)s). "
        "Our opening hours: %(hours)s."
    ) % {"opening": opening, "hours": week}


def _ack_language(conversation: Conversation) -> str:
    if conversation.language in ACK_LANGUAGES:
        return conversation.language
    profile = getattr(conversation.workspace, "profile", None)
    for language in getattr(profile, "languages", None) or []:
        if language in ACK_LANGUAGES:
            return language
    return "en"


def _acknowledge_if_closed(conversation: Conversation, at: datetime, clock: Clock) -> None:
    if clock.is_open(at):
        return
    try:
        opens_at = next_open(clock.schedule, at)
    except ValueError:
        return
    with translation.override(_ack_language(conversation)):
        text = acknowledgement_text(conversation, clock.schedule, opens_at)
    send_auto_ack(conversation, text, opens_at, at=at)


def send_auto_ack(
    conversation: Conversation, text: str, opens_at: datetime, *, at: datetime | None = None
) -> Message | None:
    """Queue one acknowledgement per conversation per closed stretch (the opening that ends the
    stretch names it in the idempotency key); None if this stretch already has one.

    The message is an ordinary pending reply sent by reply_tasks.send_reply_task; it is not a response
    for the SLA: the clock keeps running until a person answers."""
    key = f"autoack:{conversation.pk}:{opens_at.astimezone(UTC):%Y%m%dT%H%MZ}"
    if Message.objects.by_idempotency_key(key).exists():
        return None
    at = at or datetime.now(UTC)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                workspace_id=conversation.workspace_id,
                channel_id=conversation.channel_id,
                conversation=conversation,
                direction=Message.Direction.OUT,
                delivery=Message.Delivery.PENDING,
                idempotency_key=key,
                text=text,
                received_at=at,
            )
    except IntegrityError:  # another worker queued it a moment ago
        return None
    TimelineEvent.objects.create(
        conversation=conversation,
        kind=TimelineEvent.Kind.AUTO_ACK,
        created_at=at,
        detail={"message": message.pk, "opens_at": opens_at.isoformat()},
    )
    transaction.on_commit(lambda: _enqueue_send(message.pk))
    return message


def _enqueue_send(message_id: int) -> None:
    from smmdesk.inbox.reply_tasks import send_reply_task

    send_reply_task(message_id)
