"""The public proof of a contest's draw, at an address with an unguessable token and no login.

It shows what anyone needs to check the draw and nothing personal beyond the owner's choice of list form:
the commitment (from opening), the list hash and the downloadable list (from closing), the public value,
the revealed seed and the winners (after the draw), and the algorithm in words. Entrants' names, comments
and refusals, the staff list and who ran the contest are never shown here.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_safe

from smmdesk.accounts.access import public_view
from smmdesk.contests import actions, draw, listing, proof
from smmdesk.contests.models import Contest
from smmdesk.publishing.scheduling import workspace_zone

Status = Contest.Status


def _contest(token: str) -> Contest:
    contest = (
        Contest.objects.select_related("workspace", "channel")
        .filter(proof_token=token)
        .exclude(status=Status.DRAFT)
        .first()
    )
    if contest is None or not token:
        raise Http404("no such proof")
    return contest


def _private(response: HttpResponse) -> HttpResponse:
    # The address is the secret: no search engine, no shared cache, no referrer leaking it onwards.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@public_view
@require_safe
def proof_page(request, token: str):
    contest = _contest(token)
    drawn = contest.status == Status.DRAWN
    winners = contest.entrants.filter(winner_rank__isnull=False).order_by("winner_rank") if drawn else []
    frozen = contest.status in (Status.CLOSED, Status.DRAWN)
    with timezone.override(workspace_zone(contest.workspace)):
        response = render(
            request,
            "contests/proof.html",
            {
                "contest": contest,
                "drawn": drawn,
                "frozen": frozen,
                "entrants": len(listing.split_lines(contest.entrant_list)) if frozen else None,
                "winners": winners,
                "algorithm": draw.ALGORITHM,
                "token": token,
            },
        )
    return _private(response)


@public_view
@require_safe
def proof_entrants(request, token: str):
    """The frozen list, byte for byte what list_hash is the SHA-256 of."""
    contest = _contest(token)
    if contest.status not in (Status.CLOSED, Status.DRAWN):
        raise Http404("the list is frozen at closing")
    response = HttpResponse(contest.entrant_list.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contest-{contest.pk}-entrants.txt"'
    return _private(response)


@public_view
@require_safe
def proof_json(request, token: str):
    contest = _contest(token)
    if contest.status != Status.DRAWN:
        raise Http404("the proof is complete after the draw")
    body = proof.dumps(actions.proof_for(contest))
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contest-{contest.pk}-proof.json"'
    return _private(response)


public_urlpatterns = [
    path("contests/proof/<str:token>/", proof_page, name="contest_proof"),
    path("contests/proof/<str:token>/entrants.txt", proof_entrants, name="contest_proof_entrants"),
    path("contests/proof/<str:token>/proof.json", proof_json, name="contest_proof_json"),
]
