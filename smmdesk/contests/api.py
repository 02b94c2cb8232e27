"""Contests over the HTTP API: contests (create, read, change, delete), their steps (open, collect, close,
public value, draw), their entrants (list, disqualify, reinstate) and the proof of a drawn contest.

Role checks are the pages' ("contests.view" to read, "contests.manage" for the rest). A step the contest's
state refuses (drawing an open contest, disqualifying after closing) is a 409 naming the contest; refused
input is a 422 naming the field, in the same words as on the pages; a network that cannot be read is a 502
with the network's message.
"""

import datetime as dt

from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from smmdesk.api import MAX_OFFSET, InvalidOut, requires
from smmdesk.contests import actions, entries
from smmdesk.contests.models import Contest, Entrant

router = Router(tags=["contests"])
VIEW, MANAGE = "contests.view", "contests.manage"


class ContestIn(Schema):
    """Every field is optional on change; on creation title, the post (variant, or channel and
    post_external_id), opens_at and closes_at are needed. Times without a zone are the business's."""

    title: str | None = None
    variant: int | None = None
    channel: int | None = None
    post_external_id: str | None = None
    post_url: str | None = None
    require_comment: bool | None = None
    require_repost: bool | None = None
    require_like: bool | None = None
    require_member: bool | None = None
    comment_pattern: str | None = None
    pattern_is_regex: bool | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    winners_count: int | None = None
    staff_accounts: list[str] | None = None
    exclude_winners_days: int | None = None
    pseudonymisation: str | None = None


class WinnerOut(Schema):
    rank: int
    author_id: str
    author_name: str
    line: str
    line_number: int


class ContestOut(Schema):
    id: int
    title: str
    status: str
    channel_id: int | None
    channel: str
    network: str
    variant_id: int | None
    post_external_id: str
    post_url: str
    require_comment: bool
    require_repost: bool
    require_like: bool
    require_member: bool
    comment_pattern: str
    pattern_is_regex: bool
    opens_at: dt.datetime
    closes_at: dt.datetime
    winners_count: int
    staff_accounts: list[str]
    exclude_winners_days: int
    pseudonymisation: str
    commitment: str
    list_hash: str
    public_value: str
    public_value_source: str
    public_value_at: dt.datetime | None
    server_seed: str
    draw_seed: str
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    drawn_at: dt.datetime | None
    collected_at: dt.datetime | None
    collect_error: str
    announcement_post_id: int | None
    proof_url: str
    entrants: int
    eligible: int
    winners: list[WinnerOut]


class EntrantOut(Schema):
    id: int
    author_id: str
    author_name: str
    kinds: list[str]
    text: str
    entered_at: dt.datetime | None
    first_seen_at: dt.datetime
    present: bool
    eligible: bool
    reasons: list[dict]
    reason_texts: list[str]
    disqualified_reason: str
    disqualified_at: dt.datetime | None
    line: str
    line_number: int | None
    winner_rank: int | None


class EntrantPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EntrantOut]


class EntrantsIn(Schema):
    eligible: bool | None = None
    limit: int = 100
    offset: int = Field(0, le=MAX_OFFSET)


class PublicValueIn(Schema):
    public_value: str = ""
    public_value_source: str = ""


class ReasonIn(Schema):
    reason: str = ""


class CollectOut(Schema):
    new: int
    seen: int
    gone: int
    eligible: int


def _errors(error: actions.ContestError):
    def body(detail: str) -> dict:
        return {
            "detail": detail,
            "errors": [{"field": field, "message": str(message)} for field, message in error.errors],
        }

    if isinstance(error, actions.NotAllowed):
        return Status(403, body("your role does not allow this"))
    if isinstance(error, actions.WrongState):
        return Status(409, body("not possible for this contest now"))
    if any(field == "collect" for field, _message in error.errors):
        return Status(502, body("the network could not be read"))
    return Status(422, body("invalid input"))


def _contest(request, contest_id: int) -> Contest:
    return get_object_or_404(
        Contest.objects.select_related("channel"), pk=contest_id, workspace=request.workspace
    )


def _out(contest: Contest) -> dict:
    rows = contest.entrants
    winners = rows.filter(winner_rank__isnull=False).order_by("winner_rank")
    fields = {name: getattr(contest, name) for name in ContestOut.model_fields if hasattr(Contest, name)}
    return {
        **fields,
        "channel": contest.channel.name if contest.channel else "",
        "network": contest.network,
        "staff_accounts": list(contest.staff_accounts or []),
        "announcement_post_id": contest.announcement_id,
        "proof_url": reverse("contest_proof", kwargs={"token": contest.proof_token}),
        "entrants": rows.filter(present=True).count(),
        "eligible": rows.filter(eligible=True).count(),
        "winners": [
            {
                "rank": w.winner_rank,
                "author_id": w.author_id,
                "author_name": w.author_name,
                "line": w.line,
                "line_number": w.line_number,
            }
            for w in winners
        ],
    }


def _entrant_out(entrant: Entrant) -> dict:
    return {
        **{name: getattr(entrant, name) for name in EntrantOut.model_fields if hasattr(Entrant, name)},
        "reason_texts": [entries.reason_text(r) for r in entrant.reasons],
    }


ANSWERS = {200: ContestOut, 403: InvalidOut, 409: InvalidOut, 422: InvalidOut, 502: InvalidOut}


def _step(request, contest_id: int, use_case):
    contest = _contest(request, contest_id)
    try:
        use_case(contest)
    except actions.ContestError as error:
        return _errors(error)
    return _out(_contest(request, contest_id))


@router.get("/w/{slug}/contests", response=list[ContestOut])
@requires(VIEW)
def list_contests(request, slug: str):
    """The workspace's contests, newest first."""
    return [_out(c) for c in Contest.objects.filter(workspace=request.workspace).select_related("channel")]


@router.post("/w/{slug}/contests", response={201: ContestOut, 403: InvalidOut, 422: InvalidOut})
@requires(MANAGE)
def create_contest(request, slug: str, payload: ContestIn):
    """A new draft contest. The channel's own account is added to the staff accounts."""
    try:
        contest = actions.create_contest(request.membership, payload.model_dump(exclude_unset=True))
    except actions.ContestError as error:
        return _errors(error)
    return Status(201, _out(contest))


@router.get("/w/{slug}/contests/{contest_id}", response=ContestOut)
@requires(VIEW)
def get_contest(request, slug: str, contest_id: int):
    return _out(_contest(request, contest_id))


@router.put("/w/{slug}/contests/{contest_id}", response=ANSWERS)
@requires(MANAGE)
def update_contest(request, slug: str, contest_id: int, payload: ContestIn):
    """Change the fields sent. Once open, only the title, the number of winners, the staff accounts, the
    recent-winner rule and the list's form may change; fewer after closing."""
    data = payload.model_dump(exclude_unset=True)
    return _step(request, contest_id, lambda c: actions.update_contest(request.membership, c, data))


@router.delete("/w/{slug}/contests/{contest_id}", response={204: None, 403: InvalidOut, 409: InvalidOut})
@requires(MANAGE)
def delete_contest(request, slug: str, contest_id: int):
    """Only a draft: an opened contest's commitment is public and its proof stays."""
    try:
        actions.delete_contest(request.membership, _contest(request, contest_id))
    except actions.ContestError as error:
        return _errors(error)
    return Status(204, None)


@router.post("/w/{slug}/contests/{contest_id}/open", response=ANSWERS)
@requires(MANAGE)
def open_contest(request, slug: str, contest_id: int):
    """Publish the commitment (SHA-256 of a fresh secret seed); entries are collected from now on."""
    return _step(request, contest_id, lambda c: actions.open_contest(request.membership, c))


@router.post("/w/{slug}/contests/{contest_id}/collect", response={**ANSWERS, 200: CollectOut})
@requires(MANAGE)
def collect_entries(request, slug: str, contest_id: int):
    """Read the post's entries from the network now (also done every ten minutes while open)."""
    contest = _contest(request, contest_id)
    try:
        return actions.collect(contest, request.membership)
    except actions.ContestError as error:
        return _errors(error)


@router.post("/w/{slug}/contests/{contest_id}/close", response=ANSWERS)
@requires(MANAGE)
def close_contest(request, slug: str, contest_id: int):
    """Collect one last time, freeze the entrant list and publish its hash."""
    return _step(request, contest_id, lambda c: actions.close_contest(request.membership, c))


@router.post("/w/{slug}/contests/{contest_id}/public-value", response=ANSWERS)
@requires(MANAGE)
def public_value(request, slug: str, contest_id: int, payload: PublicValueIn):
    """Record the public value (after closing, once)."""
    return _step(
        request,
        contest_id,
        lambda c: actions.set_public_value(
            request.membership, c, payload.public_value, payload.public_value_source
        ),
    )


@router.post("/w/{slug}/contests/{contest_id}/draw", response=ANSWERS)
@requires(MANAGE)
def draw_winners(request, slug: str, contest_id: int):
    """Pick the winners, reveal the server seed, draft the announcement post."""
    contest = _contest(request, contest_id)
    link = request.build_absolute_uri(reverse("contest_proof", kwargs={"token": contest.proof_token}))
    return _step(request, contest_id, lambda c: actions.draw_contest(request.membership, c, link))


@router.get("/w/{slug}/contests/{contest_id}/proof", response={200: dict, 409: InvalidOut})
@requires(VIEW)
def contest_proof(request, slug: str, contest_id: int):
    """The proof document of a drawn contest (what `smmdesk contests verify` checks)."""
    try:
        return actions.proof_for(_contest(request, contest_id))
    except actions.ContestError as error:
        return _errors(error)


@router.get("/w/{slug}/contests/{contest_id}/entrants", response=EntrantPage)
@requires(VIEW)
def list_entrants(request, slug: str, contest_id: int, filters: Query[EntrantsIn]):
    """Everyone on the post, with why each refused one may not win."""
    contest = _contest(request, contest_id)
    rows = contest.entrants.order_by("pk")
    if filters.eligible is not None:
        rows = rows.filter(eligible=filters.eligible)
    limit, offset = max(1, min(filters.limit, 1000)), max(0, filters.offset)
    return {
        "count": rows.count(),
        "limit": limit,
        "offset": offset,
        "items": [_entrant_out(e) for e in rows[offset : offset + limit]],
    }


def _entrant(request, contest_id: int, entrant_id: int) -> Entrant:
    return get_object_or_404(
        Entrant.objects.select_related("contest__workspace", "contest__channel"),
        pk=entrant_id,
        contest_id=contest_id,
        contest__workspace=request.workspace,
    )


ENTRANT_ANSWERS = {200: EntrantOut, 403: InvalidOut, 409: InvalidOut, 422: InvalidOut}


@router.post("/w/{slug}/contests/{contest_id}/entrants/{entrant_id}/disqualify", response=ENTRANT_ANSWERS)
@requires(MANAGE)
def disqualify(request, slug: str, contest_id: int, entrant_id: int, payload: ReasonIn):
    """Take an entrant out before closing; the reason is required and audited."""
    entrant = _entrant(request, contest_id, entrant_id)
    try:
        return _entrant_out(actions.disqualify(request.membership, entrant, payload.reason, request=request))
    except actions.ContestError as error:
        return _errors(error)


@router.post("/w/{slug}/contests/{contest_id}/entrants/{entrant_id}/reinstate", response=ENTRANT_ANSWERS)
@requires(MANAGE)
def reinstate(request, slug: str, contest_id: int, entrant_id: int):
    entrant = _entrant(request, contest_id, entrant_id)
    try:
        return _entrant_out(actions.reinstate(request.membership, entrant, request=request))
    except actions.ContestError as error:
        return _errors(error)
