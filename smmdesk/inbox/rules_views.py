"""Settings pages for routing rules and canned replies.

Rules are for managers only (inbox.manage, to read and to change): they decide who sees which customer.
Canned replies are readable by everyone who uses the inbox (inbox.view) and changed by managers.
"""

from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import workspace_view
from smmdesk.business.models import LANGUAGE_CHOICES
from smmdesk.core import settings_pages
from smmdesk.inbox import canned, routing
from smmdesk.inbox.models import CannedReply, RoutingRule

MANAGE = "inbox.manage"
get_or_post = settings_pages.get_or_post


def _page(request, template, tab, **context):
    return settings_pages.page(request, template, tab, MANAGE, **context)


def _labelled(rows):
    """Rules and replies store a language code; pages show its name."""
    names = dict(LANGUAGE_CHOICES)
    rows = list(rows)
    for row in rows:
        row.language_label = names.get(row.language, row.language)
    return rows


_done = settings_pages.saved


# --- routing rules -------------------------------------------------------------------------------------


@workspace_view(MANAGE)
@get_or_post
def rules(request):
    done, form = settings_pages.submit(
        request,
        routing.rule_form(request.workspace),
        lambda: routing.create_rule(request.workspace, request.POST),
        _("Rule added."),
        "inbox:rules",
    )
    if done:
        return done
    return _page(
        request,
        "inbox/rules/rules.html",
        "routing",
        rules=_labelled(routing.rules(request.workspace)),
        form=form,
    )


@workspace_view(MANAGE)
@get_or_post
def rule_edit(request, rule_id):
    rule = get_object_or_404(RoutingRule, workspace=request.workspace, pk=rule_id)
    done, form = settings_pages.submit(
        request,
        routing.rule_form(request.workspace, rule=rule),
        lambda: routing.update_rule(request.workspace, rule, request.POST),
        _("Rule saved."),
        "inbox:rules",
    )
    if done:
        return done
    return _page(request, "inbox/rules/rule_edit.html", "routing", rule=rule, form=form)


@workspace_view(MANAGE)
@require_POST
def rule_delete(request, rule_id):
    rule = get_object_or_404(RoutingRule, workspace=request.workspace, pk=rule_id)
    routing.delete_rule(request.workspace, rule.pk)
    return _done(request, _("Rule “%(name)s” deleted.") % {"name": rule.name}, "inbox:rules")


@workspace_view(MANAGE)
@require_POST
def rule_move(request, rule_id):
    rule = get_object_or_404(RoutingRule, workspace=request.workspace, pk=rule_id)
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest(_("direction: send “up” or “down”."), content_type="text/plain")
    routing.move_rule(request.workspace, rule.pk, direction)
    return redirect("inbox:rules", slug=request.workspace.slug)


# --- canned replies ------------------------------------------------------------------------------------


@workspace_view("inbox.view", write=MANAGE)
@get_or_post
def canned_replies(request):
    done, form = settings_pages.submit(
        request,
        canned.reply_form(request.workspace),
        lambda: canned.create_reply(request.workspace, request.POST),
        _("Canned reply added."),
        "inbox:canned_replies",
    )
    if done:
        return done
    return _page(
        request,
        "inbox/rules/canned_replies.html",
        "canned",
        replies=_labelled(canned.replies(request.workspace)),
        form=form,
    )


@workspace_view("inbox.view", write=MANAGE)
@get_or_post
def canned_reply_edit(request, reply_id):
    reply = get_object_or_404(CannedReply, workspace=request.workspace, pk=reply_id)
    done, form = settings_pages.submit(
        request,
        canned.reply_form(request.workspace, reply=reply),
        lambda: canned.update_reply(request.workspace, reply, request.POST),
        _("Canned reply saved."),
        "inbox:canned_replies",
    )
    if done:
        return done
    return _page(request, "inbox/rules/canned_reply_edit.html", "canned", reply=reply, form=form)


@workspace_view(MANAGE)
@require_POST
def canned_reply_delete(request, reply_id):
    reply = get_object_or_404(CannedReply, workspace=request.workspace, pk=reply_id)
    canned.delete_reply(request.workspace, reply.pk)
    return _done(
        request, _("Canned reply “%(title)s” deleted.") % {"title": reply.title}, "inbox:canned_replies"
    )


urlpatterns = [
    path("rules/", rules, name="rules"),
    path("rules/<int:rule_id>/", rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/delete/", rule_delete, name="rule_delete"),
    path("rules/<int:rule_id>/move/", rule_move, name="rule_move"),
    path("canned-replies/", canned_replies, name="canned_replies"),
    path("canned-replies/<int:reply_id>/", canned_reply_edit, name="canned_reply_edit"),
    path("canned-replies/<int:reply_id>/delete/", canned_reply_delete, name="canned_reply_delete"),
]
