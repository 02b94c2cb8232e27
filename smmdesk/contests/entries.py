"""Entries: read from the network through the adapter's entries(), one row per person, and checked
condition by condition, each refusal with its reason.

Telegram's Bot API cannot list a post's comments: its entries are rebuilt from the comments the inbox
took in (the messages of the post's comment conversation). Every other network is asked directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smmdesk.channels.base import AdapterError, Entry, ExternalRef, InboundEvent
from smmdesk.contests import patterns
from smmdesk.contests.models import Contest, Entrant
from smmdesk.inbox.ingest import fit as fit_thread_key
from smmdesk.inbox.models import Message
from smmdesk.publishing.scheduling import workspace_zone

MAX_ID = 200
MAX_TEXT = 2000
MEMBER_KINDS = {"member", "subscriber"}

# Refusal codes and their words; "detail" fills %(detail)s.
REASONS = {
    "no_comment": _("no comment"),
    "no_repost": _("no repost"),
    "no_like": _("no like"),
    "not_member": _("not a member or subscriber"),
    "pattern": _("comment doesn't match the pattern"),
    "staff": _("staff account"),
    "recent_winner": _("won on %(detail)s"),
    "before_open": _("entered before the contest opened"),
    "after_close": _("entered after the contest closed"),
    "gone": _("no longer on the post"),
    "disqualified": _("disqualified: %(detail)s"),
}


class CollectError(Exception):
    """The entries could not be read; the message says why, for the contest's page."""

    def __init__(self, message, reconnect: bool = False):
        super().__init__(str(message))
        self.message = str(message)
        self.reconnect = reconnect


def reason_text(reason: dict) -> str:
    words = str(REASONS.get(reason.get("code"), reason.get("code", "")))
    return words % {"detail": reason.get("detail", "")} if "%(detail)s" in words else words


def fit_id(value: str) -> str:
    """Ids longer than the column keep a prefix and a hash, so they stay distinct."""
    value = str(value)
    if len(value) <= MAX_ID:
        return value
    return value[: MAX_ID - 65] + "#" + hashlib.sha256(value.encode()).hexdigest()


# --- reading the network ----------------------------------------------------------------------------------


def inbox_comments(contest: Contest) -> list[InboundEvent]:
    """The post's comments as the inbox stored them, as the comment events Telegram's entries() takes."""
    from smmdesk.channels.telegram.updates import message_ref, split_ref

    try:
        chat, ids = split_ref(contest.post_external_id)
    except ValueError:
        raise CollectError(
            _("%(id)s is not a Telegram message id (the channel's chat id, a colon, the message id).")
            % {"id": contest.post_external_id}
        )
    refs = {fit_thread_key(f"post:{message_ref(chat, i)}"): message_ref(chat, i) for i in ids}
    rows = Message.objects.filter(
        channel=contest.channel, direction=Message.Direction.IN, conversation__thread_key__in=list(refs)
    ).select_related("conversation")
    return [
        InboundEvent(
            external_id=m.external_id,
            kind="comment",
            author_id=m.author_external_id,
            author_name=m.author_name,
            text=m.text,
            created_at=m.sent_at or m.received_at,
            thread_id=refs[m.conversation.thread_key],
        )
        for m in rows
        if m.author_external_id
    ]


def fetch(contest: Contest) -> list[Entry]:
    """What the network says about the post now; raises CollectError (never an adapter's exception)."""
    channel = contest.channel
    if channel is None:
        raise CollectError(_("The contest's channel was deleted."))
    if not channel.known_kind:
        raise CollectError(_("This channel's network is no longer available."))
    ref = ExternalRef(external_id=contest.post_external_id, url=contest.post_url)
    try:
        adapter = channel.adapter()
        if channel.kind == "telegram":
            return list(adapter.entries(ref, comments=inbox_comments(contest)))
        return list(adapter.entries(ref))
    except AdapterError as exc:
        raise CollectError(exc.message, reconnect=exc.reconnect)
    except ValueError as exc:  # the channel's settings cannot be read (a changed encryption key)
        raise CollectError(str(exc))


def merge(found: list[Entry]) -> dict[str, Entry]:
    """One entry per person (network author id): kinds joined, the earliest date and its text kept."""
    people: dict[str, Entry] = {}
    for entry in found:
        key = fit_id(entry.author_id).strip()
        if not key:
            continue
        known = people.get(key)
        if known is None:
            people[key] = entry
            continue
        earlier = known
        if entry.created_at and (known.created_at is None or entry.created_at < known.created_at):
            earlier = entry
        people[key] = Entry(
            author_id=key,
            author_name=known.author_name or entry.author_name,
            kinds=known.kinds | entry.kinds,
            text=earlier.text or known.text or entry.text,
            created_at=earlier.created_at,
        )
    return people


# --- eligibility ------------------------------------------------------------------------------------------


def staff_keys(values) -> set[str]:
    return {str(v).strip().lstrip("@").casefold() for v in values or [] if str(v).strip().lstrip("@")}


def recent_winners(contest: Contest, now: datetime) -> dict[str, str]:
    """{author id: the local date they won} for winners of this workspace's other contests on the same
    network within the contest's exclude_winners_days."""
    if not contest.exclude_winners_days:
        return {}
    since = now - timedelta(days=contest.exclude_winners_days)
    zone = workspace_zone(contest.workspace)
    rows = (
        Entrant.objects.filter(
            contest__workspace_id=contest.workspace_id,
            contest__network=contest.network,
            contest__status=Contest.Status.DRAWN,
            contest__drawn_at__gte=since,
            winner_rank__isnull=False,
        )
        .exclude(contest_id=contest.pk)
        .order_by("contest__drawn_at")
        .values_list("author_id", "contest__drawn_at")
    )
    return {author: drawn.astimezone(zone).date().isoformat() for author, drawn in rows}


@dataclass
class Rules:
    contest: Contest
    staff: set[str]
    winners: dict[str, str]
    matches: object

    @classmethod
    def of(cls, contest: Contest, now: datetime) -> Rules:
        return cls(
            contest=contest,
            staff=staff_keys(contest.staff_accounts),
            winners=recent_winners(contest, now),
            matches=patterns.matcher(contest.comment_pattern, contest.pattern_is_regex),
        )

    def reasons(self, entrant: Entrant) -> list[dict]:
        c, kinds, out = self.contest, set(entrant.kinds or []), []

        def refuse(code, detail=""):
            out.append({"code": code, "detail": detail} if detail else {"code": code})

        if not entrant.present:
            refuse("gone")
        if (c.require_comment or c.comment_pattern) and "comment" not in kinds:
            refuse("no_comment")
        elif c.comment_pattern and not self.matches(entrant.text):
            refuse("pattern")
        if c.require_repost and "repost" not in kinds:
            refuse("no_repost")
        if c.require_like and "like" not in kinds:
            refuse("no_like")
        if c.require_member and not kinds & MEMBER_KINDS:
            refuse("not_member")
        if entrant.entered_at and entrant.entered_at < c.opens_at:
            refuse("before_open")
        if entrant.entered_at and entrant.entered_at > c.closes_at:
            refuse("after_close")
        name = entrant.author_name.strip().lstrip("@").casefold()
        if entrant.author_id.casefold() in self.staff or (name and name in self.staff):
            refuse("staff")
        if entrant.author_id in self.winners:
            refuse("recent_winner", self.winners[entrant.author_id])
        if entrant.disqualified_at:
            refuse("disqualified", entrant.disqualified_reason)
        return out


def evaluate(contest: Contest, now: datetime | None = None) -> int:
    """Check every entrant of the contest again; returns how many may win."""
    rules = Rules.of(contest, now or timezone.now())
    rows = list(contest.entrants.all())
    for row in rows:
        row.reasons = rules.reasons(row)
        row.eligible = not row.reasons
    Entrant.objects.bulk_update(rows, ["reasons", "eligible"], batch_size=500)
    return sum(row.eligible for row in rows)


def store(contest: Contest, found: list[Entry], now: datetime) -> dict[str, int]:
    """Make the contest's rows what the network reported (inside the caller's transaction). Running it
    twice with the same answer changes nothing; people no longer on the post are kept, marked gone."""
    people = merge(found)
    existing = {row.author_id: row for row in contest.entrants.all()}
    new, changed = [], []
    for key, entry in people.items():
        values = {
            "author_name": (entry.author_name or "")[:200],
            "kinds": sorted(entry.kinds),
            "text": (entry.text or "")[:MAX_TEXT],
            "entered_at": entry.created_at,
            "present": True,
        }
        row = existing.get(key)
        if row is None:
            new.append(Entrant(contest=contest, author_id=key, first_seen_at=now, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    gone = [row for key, row in existing.items() if key not in people and row.present]
    for row in gone:
        row.present = False
    with transaction.atomic():
        Entrant.objects.bulk_create(new, batch_size=500)
        fields = ["author_name", "kinds", "text", "entered_at", "present"]
        Entrant.objects.bulk_update(changed + gone, fields, batch_size=500)
        eligible = evaluate(contest, now)
    return {"new": len(new), "seen": len(people), "gone": len(gone), "eligible": eligible}
