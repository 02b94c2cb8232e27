"""Settings pages for routing rules and canned replies.

Rules are for managers only (inbox.manage, to read and to change): they decide who sees which customer.
Canned replies are readable by everyone who uses the inbox (inbox.view) and changed by managers.
"""

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from smmdesk.accounts.access import can, workspace_view
from smmdesk.business.actions import InvalidInput
from smmdesk.business.forms import make_read_only
from smmdesk.business.models import LANGUAGE_CHOICES
from smmdesk.inbox import canned, routing
from smmdesk.inbox.models import CannedReply, RoutingRule

MANAGE = "inbox.manage"
get_or_post = require_http_methods(["GET", "HEAD", "POST"])


def _page(request, template, tab, **context):
    can_edit = can(request, MANAGE)
    if not can_edit:
        for value in context.values():
            if isinstance(value, BaseForm):
                make_read_only(value)
    return render(
        request, template, {"tab": tab, "active_section": "settings", "can_edit": can_edit, **context}
    )


def _labelled(rows):
    """Rules and replies store a language code; pages show its name."""
    names = dict(LANGUAGE_CHOICES)
    rows = list(rows)
    for row in rows:
        row.language_label = names.get(row.language, row.language)
    return rows


def _done(request, message, to, **kwargs):
    messages.success(request, message)
    return redirect(to, slug=request.workspace.slug, **kwargs)


# --- routing rules -------------------------------------------------------------------------------------


@workspace_view(MANAGE)
@get_or_post
def rules(request):
    form = routing.rule_form(request.workspace)
    if request.method == "POST":
        try:
            routing.create_rule(request.workspace, request.POST)
        except InvalidInput as refused:
            form = refused.form
        else:
            return _done(request, _("Rule added."), "inbox:rules")
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
    form = routing.rule_form(request.workspace, rule=rule)
    if request.method == "POST":
        try:
            routing.update_rule(request.workspace, rule, request.POST)
        except InvalidInput as refused:
            form = refused.form
        else:
            return _done(request, _("Rule saved."), "inbox:rules")
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
    form = canned.reply_form(request.workspace)
    if request.method == "POST":
        try:
            canned.create_reply(request.workspace, request.POST)
        except InvalidInput as refused:
            form = refused.form
        else:
            return _done(request, _("Canned reply added."), "inbox:canned_replies")
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
    form = canned.reply_form(request.workspace, reply=reply)
    if request.method == "POST":
        try:
            canned.update_reply(request.workspace, reply, request.POST)
        except InvalidInput as refused:
            form = refused.form
        else:
            return _done(request, _("Canned reply saved."), "inbox:canned_replies")
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
