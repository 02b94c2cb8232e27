"""The contests section's pages: the list, the editor, a contest's page with its steps, and its entrants.

Each view parses, calls one use case from contests.actions and renders or redirects; contests are always
looked up inside the workspace from the URL, so another workspace's id is simply not found. A refused use
case comes back as a message on the contest's page (or as errors on the form), never as an error page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import can, workspace_view
from smmdesk.contests import actions, analytics, entries
from smmdesk.contests.forms import ContestForm, DisqualifyForm, PublicValueForm
from smmdesk.contests.models import Contest, Entrant
from smmdesk.publishing.scheduling import workspace_zone

VIEW, MANAGE = "contests.view", "contests.manage"
Status = Contest.Status
ENTRANTS_PER_PAGE = 100
EVENT_LABELS = {
    "created": gettext_lazy("created the contest"),
    "edited": gettext_lazy("edited it"),
    "opened": gettext_lazy("opened it and published the commitment"),
    "collected": gettext_lazy("collected entries"),
    "collect_failed": gettext_lazy("could not collect entries"),
    "closed": gettext_lazy("closed it and froze the entrant list"),
    "public_value": gettext_lazy("recorded the public value"),
    "drawn": gettext_lazy("drew the winners"),
    "announcement": gettext_lazy("drafted the winners' announcement"),
    "announcement_failed": gettext_lazy("could not draft the announcement"),
    "disqualified": gettext_lazy("disqualified an entrant"),
    "reinstated": gettext_lazy("reinstated an entrant"),
}


def contest_url(request, contest: Contest, name: str = "detail") -> str:
    return reverse(f"contests:{name}", kwargs={"slug": request.workspace.slug, "contest_id": contest.pk})


def proof_link(request, contest: Contest) -> str:
    return request.build_absolute_uri(reverse("contest_proof", kwargs={"token": contest.proof_token}))


def render_page(request, template: str, context: dict, status: int = 200):
    # Times read as the business's clock, wherever the member sits.
    with timezone.override(workspace_zone(request.workspace)):
        return render(request, template, {"active_section": "contests", **context}, status=status)


def _contest(request, contest_id) -> Contest:
    return get_object_or_404(
        Contest.objects.select_related("channel", "workspace", "variant__post", "announcement"),
        pk=contest_id,
        workspace=request.workspace,
    )


def _refused(request, contest: Contest, error: actions.ContestError):
    if isinstance(error, actions.NotAllowed):
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return redirect(contest_url(request, contest))


# --- the list and the editor ---------------------------------------------------------------------------


@workspace_view(VIEW)
@require_safe
def contest_list(request):
    contests = Contest.objects.filter(workspace=request.workspace).select_related("channel")
    return render_page(request, "contests/list.html", {"contests": contests})


def _editor(request, form: ContestForm, contest: Contest | None, status: int = 200):
    return render_page(
        request,
        "contests/editor.html",
        {"form": form, "contest": contest, "zone": workspace_zone(request.workspace)},
        status=status,
    )


def _save(request, form: ContestForm, contest: Contest | None):
    if form.is_valid():
        try:
            if contest is None:
                contest = actions.create_contest(request.membership, form.data_for_action())
            else:
                contest = actions.update_contest(request.membership, contest, form.data_for_action())
        except actions.NotAllowed as error:
            raise PermissionDenied(error.message)
        except actions.ContestError as error:
            form.add_errors(error.errors)
        else:
            messages.success(request, _("Saved."))
            return redirect(contest_url(request, contest))
    messages.error(request, _("The contest was not saved: correct the fields marked below."))
    return _editor(request, form, contest, status=400)


@workspace_view(MANAGE)
def contest_new(request):
    if request.method == "POST":
        return _save(request, ContestForm(request.workspace, data=request.POST), None)
    return _editor(request, ContestForm(request.workspace), None)


@workspace_view(MANAGE)
def contest_edit(request, contest_id):
    contest = _contest(request, contest_id)
    if request.method == "POST":
        return _save(request, ContestForm(request.workspace, contest, data=request.POST), contest)
    return _editor(request, ContestForm(request.workspace, contest), contest)


# --- a contest's page and its steps ---------------------------------------------------------------------


def _events(contest: Contest) -> list[dict]:
    return [
        {
            "when": event.created_at,
            "who": event.actor.user if event.actor else _("smmdesk"),
            "what": EVENT_LABELS.get(event.action, event.action),
            "detail": event.detail,
            "action": event.action,
        }
        for event in contest.events.select_related("actor__user").order_by("-created_at", "-pk")[:50]
    ]


@workspace_view(VIEW)
@require_safe
def contest_detail(request, contest_id):
    contest = _contest(request, contest_id)
    winners = contest.entrants.filter(winner_rank__isnull=False).order_by("winner_rank")
    manage = can(request, MANAGE)
    return render_page(
        request,
        "contests/detail.html",
        {
            "contest": contest,
            "winners": winners,
            "stats": analytics.summary(contest),
            "events": _events(contest),
            "proof_url": proof_link(request, contest),
            "manage": manage,
            "public_value_form": PublicValueForm() if manage and contest.status == Status.CLOSED else None,
            "zone": workspace_zone(request.workspace),
        },
    )


def _step(request, contest_id, run, done: str):
    contest = _contest(request, contest_id)
    try:
        run(contest)
    except actions.ContestError as error:
        return _refused(request, contest, error)
    messages.success(request, done)
    return redirect(contest_url(request, contest))


@workspace_view(MANAGE)
@require_POST
def contest_open(request, contest_id):
    return _step(
        request,
        contest_id,
        lambda c: actions.open_contest(request.membership, c),
        _("The contest is open; its commitment is published."),
    )


@workspace_view(MANAGE)
@require_POST
def contest_collect(request, contest_id):
    contest = _contest(request, contest_id)
    try:
        counts = actions.collect(contest, request.membership)
    except actions.ContestError as error:
        return _refused(request, contest, error)
    messages.success(
        request,
        _("Entries collected: %(seen)s people on the post, %(eligible)s may win.") % counts,
    )
    return redirect(contest_url(request, contest))


@workspace_view(MANAGE)
@require_POST
def contest_close(request, contest_id):
    return _step(
        request,
        contest_id,
        lambda c: actions.close_contest(request.membership, c),
        _("The contest is closed; the entrant list is frozen and its hash published."),
    )


@workspace_view(MANAGE)
@require_POST
def contest_public_value(request, contest_id):
    contest = _contest(request, contest_id)
    form = PublicValueForm(data=request.POST)
    if not form.is_valid():
        messages.error(
            request,
            " ".join(
                f"{form.fields[name].label}: {e}" for name, errors in form.errors.items() for e in errors
            ),
        )
        return redirect(contest_url(request, contest))
    return _step(
        request,
        contest_id,
        lambda c: actions.set_public_value(
            request.membership, c, form.cleaned_data["public_value"], form.cleaned_data["public_value_source"]
        ),
        _("The public value is recorded."),
    )


@workspace_view(MANAGE)
@require_POST
def contest_draw(request, contest_id):
    contest = _contest(request, contest_id)
    return _step(
        request,
        contest_id,
        lambda c: actions.draw_contest(request.membership, c, proof_link(request, contest)),
        _("The winners are drawn and the server seed revealed. A draft announcement is in the calendar."),
    )


@workspace_view(MANAGE)
@require_POST
def contest_delete(request, contest_id):
    contest = _contest(request, contest_id)
    try:
        actions.delete_contest(request.membership, contest)
    except actions.ContestError as error:
        return _refused(request, contest, error)
    messages.success(request, _("The contest is deleted."))
    return redirect(reverse("contests:list", kwargs={"slug": request.workspace.slug}))


# --- entrants ------------------------------------------------------------------------------------------

FILTERS = {
    "all": {},
    "eligible": {"eligible": True},
    "refused": {"eligible": False},
    "winners": {"winner_rank__isnull": False},
}


@workspace_view(VIEW)
@require_safe
def entrant_list(request, contest_id):
    contest = _contest(request, contest_id)
    shown = request.GET.get("show", "all")
    if shown not in FILTERS:
        shown = "all"
    rows = (
        contest.entrants.filter(**FILTERS[shown])
        .select_related("disqualified_by__user")
        .order_by("-eligible", "author_name", "pk")
    )
    page = Paginator(rows, ENTRANTS_PER_PAGE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "contests/entrants.html",
        {
            "contest": contest,
            "page": page,
            "rows": [{"entrant": e, "reasons": [entries.reason_text(r) for r in e.reasons]} for e in page],
            "shown": shown,
            "filters": list(FILTERS),
            "can_disqualify": can(request, MANAGE) and contest.status in (Status.DRAFT, Status.OPEN),
            "disqualify_form": DisqualifyForm(),
        },
    )


def _entrant(request, contest_id, entrant_id) -> Entrant:
    return get_object_or_404(
        Entrant.objects.select_related("contest__workspace", "contest__channel"),
        pk=entrant_id,
        contest_id=contest_id,
        contest__workspace=request.workspace,
    )


def _back_to_entrants(request, entrant: Entrant):
    return redirect(contest_url(request, entrant.contest, "entrants"))


@workspace_view(MANAGE)
@require_POST
def entrant_disqualify(request, contest_id, entrant_id):
    entrant = _entrant(request, contest_id, entrant_id)
    form = DisqualifyForm(data=request.POST)
    try:
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        actions.disqualify(request.membership, entrant, reason, request=request)
    except actions.ContestError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Disqualified."))
    return _back_to_entrants(request, entrant)


@workspace_view(MANAGE)
@require_POST
def entrant_reinstate(request, contest_id, entrant_id):
    entrant = _entrant(request, contest_id, entrant_id)
    try:
        actions.reinstate(request.membership, entrant, request=request)
    except actions.ContestError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Reinstated."))
    return _back_to_entrants(request, entrant)


urlpatterns = [
    path("", contest_list, name="list"),
    path("new/", contest_new, name="new"),
    path("<int:contest_id>/", contest_detail, name="detail"),
    path("<int:contest_id>/edit/", contest_edit, name="edit"),
    path("<int:contest_id>/open/", contest_open, name="open"),
    path("<int:contest_id>/collect/", contest_collect, name="collect"),
    path("<int:contest_id>/close/", contest_close, name="close"),
    path("<int:contest_id>/public-value/", contest_public_value, name="public_value"),
    path("<int:contest_id>/draw/", contest_draw, name="draw"),
    path("<int:contest_id>/delete/", contest_delete, name="delete"),
    path("<int:contest_id>/entrants/", entrant_list, name="entrants"),
    path("<int:contest_id>/entrants/<int:entrant_id>/disqualify/", entrant_disqualify, name="disqualify"),
    path("<int:contest_id>/entrants/<int:entrant_id>/reinstate/", entrant_reinstate, name="reinstate"),
]
