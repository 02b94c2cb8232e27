from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from smmdesk.accounts import actions as account_actions
from smmdesk.accounts.access import public_view, user_view, workspace_view
from smmdesk.core import actions
from smmdesk.core import dashboard as dashboard_blocks
from smmdesk.core.sections import SECTIONS
from smmdesk.lib import health
from smmdesk.lib.redirects import local_path


@user_view
def home(request):
    membership = request.user.memberships_in_order().first()
    if membership is None:
        return redirect("accounts:workspace_new")
    return redirect("core:dashboard", slug=membership.workspace.slug)


@workspace_view("workspace.view")
def dashboard(request):
    context = actions.dashboard(request.workspace, request.membership)
    blocks = dashboard_blocks.gather(request.workspace, request.membership)
    return render(
        request, "core/dashboard.html", {**context, "blocks": blocks, "active_section": "dashboard"}
    )


@workspace_view("workspace.view")
def section(request, section):
    for key, label, description in SECTIONS:
        if key == section:
            return render(
                request,
                "core/section.html",
                {"active_section": key, "label": label, "description": description},
            )
    raise Http404("no such section")


@public_view
def healthz(request):
    problems = {"database": health.check_database(), "queue": health.check_queue()}
    body = {part: "ok" if problem is None else problem for part, problem in problems.items()}
    return JsonResponse(body, status=200 if not any(problems.values()) else 503)


@public_view
@require_POST
def set_language(request):
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(local_path(request, request.POST.get("next")) or "/")
    account_actions.set_language(request, response, language)
    return response
