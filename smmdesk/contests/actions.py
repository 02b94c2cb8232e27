"""Contests' use cases: the pages, the API, the CLI, the tasks and the demo all come through here.

Each checks the member's right, validates (inputs.clean), works inside a transaction on a locked row so a
second click or a task running twice finds the new state and stops, and writes the contest's trail
(ContestEvent). Network calls (collecting entries) happen before the transaction, never inside it.
Refusals raise inputs.ContestError ((field, message) pairs), NotAllowed (the role) or WrongState.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from smmdesk.accounts import actions as account_actions
from smmdesk.accounts.models import AuditEvent, Membership
from smmdesk.accounts.roles import allowed
from smmdesk.contests import draw, entries, listing, proof
from smmdesk.contests.inputs import ContestError, NotAllowed, WrongState, check_editable, clean
from smmdesk.contests.models import Contest, ContestEvent, Entrant
from smmdesk.lib import crypto

__all__ = ["ContestError", "NotAllowed", "WrongState"]

logger = logging.getLogger(__name__)
Status = Contest.Status
MANAGE = "contests.manage"
MAX_REASON = 500


def _require(membership: Membership | None, contest: Contest | None = None) -> None:
    if membership is None or not allowed(membership.role, MANAGE):
        raise NotAllowed(_("Your role may not run contests."))
    if contest is not None and contest.workspace_id != membership.workspace_id:
        raise NotAllowed(_("This contest belongs to another workspace."))


def record(contest: Contest, action: str, actor: Membership | None = None, **detail) -> ContestEvent:
    return ContestEvent.objects.create(contest=contest, action=action, actor=actor, detail=detail)


def _locked(contest: Contest) -> Contest:
    return (
        Contest.objects.select_for_update(of=("self",))
        .select_related("channel", "workspace")
        .get(pk=contest.pk)
    )


def _fresh(contest: Contest) -> Contest:
    """The row as it is now: a page or a task may hold a copy from before another step."""
    return Contest.objects.select_related("channel", "workspace").get(pk=contest.pk)


def _state(contest: Contest, *wanted: str, message: str) -> None:
    if contest.status not in wanted:
        raise WrongState(message)


# --- writing -------------------------------------------------------------------------------------------


def create_contest(membership: Membership, data: dict) -> Contest:
    _require(membership)
    fields = clean(membership.workspace, data)
    with transaction.atomic():
        contest = Contest.objects.create(
            workspace=membership.workspace,
            created_by=membership,
            proof_token=secrets.token_urlsafe(24),
            **fields,
        )
        record(contest, "created", membership)
    return contest


def update_contest(membership: Membership, contest: Contest, data: dict) -> Contest:
    _require(membership, contest)
    with transaction.atomic():
        contest = _locked(contest)
        fields = clean(contest.workspace, data, contest)
        check_editable(contest, fields)
        changed = sorted(name for name, value in fields.items() if getattr(contest, name) != value)
        for name, value in fields.items():
            setattr(contest, name, value)
        contest.updated_at = timezone.now()
        contest.save()
        if changed:
            record(contest, "edited", membership, fields=changed)
        if contest.status == Status.OPEN and {"staff_accounts", "exclude_winners_days"} & set(changed):
            entries.evaluate(contest)
    return contest


def delete_contest(membership: Membership, contest: Contest) -> None:
    """Only a draft: once the commitment is public, the contest's proof must stay."""
    _require(membership, contest)
    with transaction.atomic():
        contest = _locked(contest)
        _state(contest, Status.DRAFT, message=_("Only a draft can be deleted: this contest is public."))
        contest.delete()


def open_contest(membership: Membership, contest: Contest) -> Contest:
    """Publish the commitment to a fresh secret seed; entries are collected from now on."""
    _require(membership, contest)
    with transaction.atomic():
        contest = _locked(contest)
        _state(contest, Status.DRAFT, message=_("Only a draft can be opened."))
        now = timezone.now()
        if contest.closes_at <= now:
            raise ContestError(_("The closing time has passed: move it later first."), "closes_at")
        seed = draw.new_server_seed()
        contest.commitment = draw.commitment(seed)
        contest.sealed_seed = crypto.encrypt(seed.hex())
        contest.status, contest.opened_at, contest.updated_at = Status.OPEN, now, now
        contest.save()
        record(contest, "opened", membership, commitment=contest.commitment)
    return contest


def _fetch(contest: Contest, actor: Membership | None):
    """The network's entries, or a ContestError after noting the failure on the contest."""
    try:
        return entries.fetch(contest)
    except entries.CollectError as exc:
        Contest.objects.filter(pk=contest.pk).update(collect_error=exc.message[:2000])
        # The periodic task notes a lasting failure once, not every ten minutes.
        if actor is not None or contest.collect_error != exc.message[:2000]:
            record(contest, "collect_failed", actor, error=exc.message[:500])
        raise ContestError(_("Entries could not be read: %(error)s") % {"error": exc.message}, "collect")


def collect(contest: Contest, actor: Membership | None = None, now: datetime | None = None) -> dict:
    """Read the entries again and check them; safe to repeat. Only while the contest is open."""
    if actor is not None:
        _require(actor, contest)
    contest = _fresh(contest)
    _state(contest, Status.OPEN, message=_("Entries are collected while the contest is open."))
    found = _fetch(contest, actor)
    now = now or timezone.now()
    with transaction.atomic():
        contest = _locked(contest)
        _state(contest, Status.OPEN, message=_("Entries are collected while the contest is open."))
        counts = entries.store(contest, found, now)
        Contest.objects.filter(pk=contest.pk).update(collected_at=now, collect_error="")
        if actor is not None or counts["new"] or counts["gone"]:
            record(contest, "collected", actor, **counts)
    return counts


def freeze(contest: Contest) -> tuple[str, dict[int, str]]:
    """The published list of the contest's eligible entrants: (its text, {entrant id: its line})."""
    lines = {
        row.pk: listing.line(
            contest.pseudonymisation, contest.commitment, contest.network, row.author_id, row.author_name
        )
        for row in contest.entrants.filter(eligible=True)
    }
    return listing.canonical_text(lines.values()), lines


def close_contest(membership: Membership | None, contest: Contest, now: datetime | None = None) -> Contest:
    """Collect one last time and freeze the entrant list; its hash is published. `membership` None: the
    periodic task closing a contest whose time is up."""
    if membership is not None:
        _require(membership, contest)
    contest = _fresh(contest)
    if contest.status == Status.DRAFT:
        raise WrongState(_("Open the contest before closing it."))
    _state(contest, Status.OPEN, message=_("This contest is already closed."))
    found = _fetch(contest, membership)
    now = now or timezone.now()
    with transaction.atomic():
        contest = _locked(contest)
        _state(contest, Status.OPEN, message=_("This contest is already closed."))
        counts = entries.store(contest, found, now)
        text, lines = freeze(contest)
        # Numbered in the list's own order; equal lines (two hashes alike) keep distinct numbers.
        order = sorted(lines, key=lambda pk: (lines[pk], pk))
        numbers = {pk: number for number, pk in enumerate(order, start=1)}
        rows = list(contest.entrants.filter(pk__in=order))
        for row in rows:
            row.line, row.line_number = lines[row.pk], numbers[row.pk]
        Entrant.objects.bulk_update(rows, ["line", "line_number"], batch_size=500)
        contest.entrant_list, contest.list_hash = text, draw.list_hash(text)
        contest.status, contest.closed_at, contest.collected_at, contest.updated_at = (
            Status.CLOSED,
            now,
            now,
            now,
        )
        contest.collect_error = ""
        contest.save()
        record(contest, "closed", membership, entrants=len(lines), list_hash=contest.list_hash, **counts)
    return contest


def set_public_value(membership: Membership, contest: Contest, value, source="") -> Contest:
    """Record the value nobody could know at closing; it is fixed once recorded."""
    _require(membership, contest)
    errors = []
    value = value.strip() if isinstance(value, str) else ""
    source = source.strip() if isinstance(source, str) else ""
    if not value:
        errors.append(("public_value", _("Enter the public value (for example a lottery draw's numbers).")))
    elif len(value) > 200 or "\x00" in value:
        errors.append(("public_value", _("Enter at most %(count)s characters.") % {"count": 200}))
    if len(source) > 200 or "\x00" in source:
        errors.append(("public_value_source", _("Enter at most %(count)s characters.") % {"count": 200}))
    if errors:
        raise ContestError(errors)
    with transaction.atomic():
        contest = _locked(contest)
        _state(
            contest, Status.CLOSED, message=_("The public value is recorded after closing, before the draw.")
        )
        if contest.public_value:
            raise WrongState(_("The public value is already recorded."), "public_value")
        now = timezone.now()
        contest.public_value, contest.public_value_source = value, source
        contest.public_value_by, contest.public_value_at, contest.updated_at = membership, now, now
        contest.save()
        record(contest, "public_value", membership, value=value, source=source)
    return contest


def draw_contest(membership: Membership, contest: Contest, proof_link: str = "") -> Contest:
    """Pick the winners, reveal the seed, and draft the winners' announcement."""
    _require(membership, contest)
    with transaction.atomic():
        contest = _locked(contest)
        _state(contest, Status.CLOSED, message=_("Only a closed contest can be drawn."))
        if not contest.public_value:
            raise ContestError(_("Record the public value first."), "public_value")
        size = len(listing.split_lines(contest.entrant_list))
        if not 1 <= contest.winners_count <= size:
            raise ContestError(
                _("%(winners)s winners cannot be drawn from %(size)s eligible entrants.")
                % {"winners": contest.winners_count, "size": size},
                "winners_count",
            )
        try:
            seed = bytes.fromhex(crypto.decrypt(contest.sealed_seed))
        except ValueError as exc:  # the encryption key changed since opening
            raise ContestError(str(exc), "server_seed")
        seed_out = draw.draw_seed(seed, contest.list_hash, contest.public_value)
        positions = draw.pick(seed_out, size, contest.winners_count)
        by_number = {row.line_number: row for row in contest.entrants.filter(line_number__isnull=False)}
        for rank, position in enumerate(positions, start=1):
            Entrant.objects.filter(pk=by_number[position + 1].pk).update(winner_rank=rank)
        now = timezone.now()
        contest.server_seed, contest.draw_seed = seed.hex(), seed_out.hex()
        contest.status, contest.drawn_at, contest.drawn_by, contest.updated_at = (
            Status.DRAWN,
            now,
            membership,
            now,
        )
        contest.save()
        record(contest, "drawn", membership, winners=[p + 1 for p in positions])
        contest.announcement = _announce(membership, contest, proof_link)
        if contest.announcement is not None:
            Contest.objects.filter(pk=contest.pk).update(announcement=contest.announcement)
    return contest


def announcement_text(contest: Contest, proof_link: str) -> str:
    winners = contest.entrants.filter(winner_rank__isnull=False).order_by("winner_rank")
    lines = [_("The results of “%(title)s”!") % {"title": contest.title}, "", _("Winners:")]
    lines += [f"{w.winner_rank}. {w.line}" for w in winners]
    if proof_link:
        lines += ["", _("Anyone can check the draw: %(link)s") % {"link": proof_link}]
    return "\n".join(lines)


def _announce(membership: Membership, contest: Contest, proof_link: str):
    """A draft post for the contest's channel; a refusal (the role, the network's limits) leaves the draw
    as it is and says so in the trail."""
    from smmdesk.publishing import actions as publishing

    if contest.channel_id is None:
        record(contest, "announcement_failed", membership, error="the channel was deleted")
        return None
    languages = getattr(getattr(contest.workspace, "profile", None), "languages", None) or [None]
    # Written in the business's first language, like its other posts.
    with translation.override(languages[0]):
        data = {
            "title": (_("Contest results: %(title)s") % {"title": contest.title})[:200],
            "variants": [{"channel": contest.channel_id, "text": announcement_text(contest, proof_link)}],
        }
    try:
        post = publishing.create_post(membership, data)
    except publishing.PublishingError as exc:
        record(contest, "announcement_failed", membership, error=exc.message)
        return None
    record(contest, "announcement", membership, post=post.pk)
    return post


def disqualify(membership: Membership, entrant: Entrant, reason, request=None) -> Entrant:
    """Take an entrant out, with a reason; written to the contest's trail and the audit log."""
    contest = entrant.contest
    _require(membership, contest)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ContestError(_("Say why this entrant is disqualified."), "reason")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise ContestError(_("Enter at most %(count)s characters.") % {"count": MAX_REASON}, "reason")
    return _set_disqualified(membership, entrant, reason, request)


def reinstate(membership: Membership, entrant: Entrant, request=None) -> Entrant:
    _require(membership, entrant.contest)
    return _set_disqualified(membership, entrant, "", request)


def _set_disqualified(membership: Membership, entrant: Entrant, reason: str, request) -> Entrant:
    with transaction.atomic():
        contest = _locked(entrant.contest)
        _state(
            contest,
            Status.DRAFT,
            Status.OPEN,
            message=_("The entrant list is frozen once the contest closes."),
        )
        entrant = Entrant.objects.select_for_update().get(pk=entrant.pk, contest=contest)
        now = timezone.now()
        entrant.disqualified_reason = reason
        entrant.disqualified_by = membership if reason else None
        entrant.disqualified_at = now if reason else None
        entrant.save(update_fields=["disqualified_reason", "disqualified_by", "disqualified_at"])
        action = "disqualified" if reason else "reinstated"
        record(contest, action, membership, entrant=entrant.author_id, reason=reason)
        account_actions.audit(
            AuditEvent.Action.CONTEST_ENTRY_DISQUALIFIED
            if reason
            else AuditEvent.Action.CONTEST_ENTRY_REINSTATED,
            actor=membership.user,
            workspace=contest.workspace,
            request=request,
            contest=contest.pk,
            entrant=entrant.author_id,
            reason=reason,
        )
        entries.evaluate(contest)
        entrant.refresh_from_db()
    return entrant


def proof_for(contest: Contest) -> dict:
    """The drawn contest's proof document (proof.py describes it)."""
    if contest.status != Status.DRAWN:
        raise WrongState(_("The proof is complete once the contest is drawn."))
    stamp = {
        name: getattr(contest, name).isoformat() if getattr(contest, name) else None
        for name in ("opens_at", "closes_at", "opened_at", "closed_at", "public_value_at", "drawn_at")
    }
    winners = contest.entrants.filter(winner_rank__isnull=False).order_by("winner_rank")
    return proof.build(
        contest={
            "title": contest.title,
            "network": contest.network,
            "post_url": contest.post_link,
            **stamp,
            "public_value_source": contest.public_value_source,
        },
        pseudonymisation=contest.pseudonymisation,
        commitment=contest.commitment,
        server_seed=contest.server_seed,
        entrant_list=contest.entrant_list,
        list_hash=contest.list_hash,
        public_value=contest.public_value,
        draw_seed=contest.draw_seed,
        winners_count=contest.winners_count,
        winner_lines=[w.line_number - 1 for w in winners],
    )


# --- the periodic work ------------------------------------------------------------------------------------


def open_contest_ids() -> list[int]:
    return list(Contest.objects.filter(status=Status.OPEN).values_list("pk", flat=True))


def tend(contest_id: int, now: datetime | None = None) -> str:
    """One open contest's periodic step: close it when its time is up, else collect. Returns what it did;
    a failure is noted on the contest and tried again at the next run."""
    now = now or timezone.now()
    contest = Contest.objects.select_related("channel", "workspace").filter(pk=contest_id).first()
    if contest is None or contest.status != Status.OPEN:
        return "nothing"
    try:
        if contest.closes_at <= now:
            close_contest(None, contest, now)
            return "closed"
        collect(contest, None, now)
        return "collected"
    except ContestError as exc:
        logger.info("contest %s: %s", contest_id, exc.message)
        return "failed"
