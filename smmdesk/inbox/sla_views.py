"""SLA policy settings (list, add, edit, delete) and the member's notices as JSON for the inbox script.

Everyone in the workspace may read the policies; changing them needs inbox.manage. The policy form and
its save/delete use cases sit at the top so the API can use the same validation.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from smmdesk.accounts.access import workspace_view
from smmdesk.business.actions import InvalidInput
from smmdesk.business.forms import TextSafetyMixin, WorkspaceNameMixin
from smmdesk.business.models import Department
from smmdesk.channels.models import Channel
from smmdesk.core import settings_pages
from smmdesk.inbox import notify, sla
from smmdesk.inbox.models import Priority, SlaPolicy

MANAGE = "inbox.manage"
MAX_MINUTES = 365 * 24 * 60
get_or_post = settings_pages.get_or_post


def _minutes_field(label, help_text):
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=MAX_MINUTES,
        help_text=help_text,
        error_messages={
            "min_value": gettext_lazy("Enter at least 1 minute."),
            "max_value": gettext_lazy("Enter at most %(limit_value)s minutes (a year)."),
        },
    )


class PolicyForm(TextSafetyMixin, WorkspaceNameMixin, forms.ModelForm):
    taken_message = gettext_lazy("A policy with this name already exists.")
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"),
        choices=[("", gettext_lazy("Any priority"))] + Priority.choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    first_response_minutes = _minutes_field(
        gettext_lazy("First response, minutes"), gettext_lazy("From the customer's first message.")
    )
    next_response_minutes = _minutes_field(
        gettext_lazy("Next response, minutes"),
        gettext_lazy("From a customer's message that follows our reply."),
    )
    resolution_minutes = _minutes_field(
        gettext_lazy("Resolution, minutes"),
        gettext_lazy("From the first message to resolved; 1440 is a day."),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "channel",
            "priority",
            "department",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "business_hours",
            "auto_acknowledge",
        ]
        help_texts = {
            "business_hours": gettext_lazy(
                "Deadlines count only the opening hours of the business profile; a message that arrives "
                "while closed starts the clock at the opening."
            ),
            "auto_acknowledge": gettext_lazy(
                "Answer a message that arrives while closed, once per closed period, with the opening hours."
            ),
        }

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        # Only this workspace's channels and departments, whatever ids a request sends.
        self.fields["channel"].queryset = Channel.objects.filter(workspace=workspace)
        self.fields["channel"].empty_label = _("Any channel")
        self.fields["department"].queryset = Department.objects.filter(workspace=workspace)
        self.fields["department"].empty_label = _("Any department")
        for name, message in (
            ("channel", _("Choose a channel of this workspace, or any channel.")),
            ("department", _("Choose a department of this workspace, or any department.")),
        ):
            self.fields[name].error_messages["invalid_choice"] = message
        self.fields["priority"].error_messages["invalid_choice"] = _("Choose a priority from the list.")

    def clean(self):
        data = super().clean()
        scope = {key: data.get(key) for key in ("channel", "priority", "department")}
        if any(key in self.errors for key in scope):
            return data
        twin = (
            SlaPolicy.objects.filter(workspace=self.workspace, **scope).exclude(pk=self.instance.pk).first()
        )
        if twin is not None:
            raise ValidationError(
                _("The policy “%(name)s” already covers this channel, priority and department."),
                params={"name": twin.name},
                code="unique",
            )
        return data


def policy_form(workspace, data=None, *, policy: SlaPolicy | None = None) -> PolicyForm:
    return PolicyForm(data, instance=policy, workspace=workspace)


def save_policy(workspace, data, *, policy: SlaPolicy | None = None) -> SlaPolicy:
    """Create or update a policy from submitted data; InvalidInput (with the bound form) if refused.

    Running deadlines keep the minutes they were set with; new clocks use the saved policy."""
    form = policy_form(workspace, data, policy=policy)
    if not form.is_valid():
        raise InvalidInput(form)
    try:
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.workspace = workspace
            saved.save()
    except IntegrityError:
        form.add_error("name", form.taken_message)
        raise InvalidInput(form)
    return saved


def delete_policy(workspace, policy_id: int) -> bool:
    """Conversations under it fall back to the default policy's spans for their warnings."""
    deleted, _rows = SlaPolicy.objects.filter(workspace=workspace, pk=policy_id).delete()
    return bool(deleted)


# ---- pages ----


def _page(request, template, **context):
    return settings_pages.page(
        request, template, "sla", MANAGE, default_policy=sla.default_policy(), **context
    )


@workspace_view("inbox.view", write=MANAGE)
@get_or_post
def sla_policies(request):
    form = policy_form(request.workspace)
    if request.method == "POST":
        try:
            policy = save_policy(request.workspace, request.POST)
        except InvalidInput as refused:
            form = refused.form
        else:
            messages.success(request, _("SLA policy “%(name)s” added.") % {"name": policy.name})
            return redirect("inbox:sla_policies", slug=request.workspace.slug)
    policies = SlaPolicy.objects.filter(workspace=request.workspace).select_related("channel", "department")
    return _page(request, "inbox/sla/policies.html", policies=policies, form=form)


@workspace_view("inbox.view", write=MANAGE)
@get_or_post
def sla_policy_edit(request, policy_id):
    policy = get_object_or_404(SlaPolicy, workspace=request.workspace, pk=policy_id)
    form = policy_form(request.workspace, policy=policy)
    if request.method == "POST":
        try:
            save_policy(request.workspace, request.POST, policy=policy)
        except InvalidInput as refused:
            form = refused.form
        else:
            messages.success(request, _("SLA policy saved."))
            return redirect("inbox:sla_policies", slug=request.workspace.slug)
    return _page(request, "inbox/sla/policy_edit.html", policy=policy, form=form)


@workspace_view(MANAGE)
@require_POST
def sla_policy_delete(request, policy_id):
    policy = get_object_or_404(SlaPolicy, workspace=request.workspace, pk=policy_id)
    delete_policy(request.workspace, policy.pk)
    messages.success(request, _("SLA policy “%(name)s” deleted.") % {"name": policy.name})
    return redirect("inbox:sla_policies", slug=request.workspace.slug)


# ---- notices for the inbox script ----


@workspace_view("inbox.view")
@require_GET
def notifications(request):
    """The signed-in member's unread notices in this workspace, newest first (at most 50):

        {"notifications": [{"id": 7, "kind": "sla_warning", "text": "Deadline near: …",
                            "conversation_id": 12, "url": "/w/salon/inbox/c/12/",
                            "created_at": "2026-01-05T09:03:00+00:00"}, ...],
         "unread": 1}

    kind is "sla_warning", "sla_breach" or another module's kind (hand-off, mention); text is plain
    text (a customer's words may be in it: insert it as text, never as HTML); url is "" when there is
    no conversation page. The script shows new ids as desktop notifications (Web Notifications API) and
    POSTs them to notifications/read/ once seen."""
    rows = notify.unread_for(request.membership)
    slug = request.workspace.slug
    return JsonResponse(
        {
            "notifications": [
                {
                    "id": row.pk,
                    "kind": row.kind,
                    "text": row.text,
                    "conversation_id": row.conversation_id,
                    "url": notify.conversation_url(slug, row.conversation_id),
                    "created_at": row.created_at.isoformat(),
                }
                for row in rows
            ],
            "unread": len(rows),
        }
    )


@workspace_view("inbox.view")
@require_POST
def notifications_read(request):
    """Mark the member's notices read. Form fields `ids` (repeated) or a JSON body {"ids": [1, 2]};
    `all=1` (or {"all": true}) marks every unread notice. Answers {"marked": n}, or 400 with
    {"error": ..., "field": "ids"}. Other members' ids are ignored."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _refused(_("The body is not valid JSON."))
        if not isinstance(body, dict):
            return _refused(_('Send an object such as {"ids": [1, 2]}.'))
        everything, raw_ids = body.get("all") is True, body.get("ids", [])
    else:
        everything, raw_ids = request.POST.get("all") in ("1", "true"), request.POST.getlist("ids")
    if everything:
        return JsonResponse({"marked": notify.mark_read(request.membership)})
    if not isinstance(raw_ids, list) or not raw_ids or len(raw_ids) > 500:
        return _refused(_("Give the ids of 1 to 500 notices, or all=1."))
    ids = [_id(value) for value in raw_ids]
    if None in ids:
        return _refused(_("Notice ids are whole numbers."))
    return JsonResponse({"marked": notify.mark_read(request.membership, ids)})


def _id(value) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    if type(value) is int and 0 < value < 2**63:
        return value
    return None


def _refused(message):
    return JsonResponse({"error": message, "field": "ids"}, status=400)


urlpatterns = [
    path("sla/", sla_policies, name="sla_policies"),
    path("sla/<int:policy_id>/", sla_policy_edit, name="sla_policy_edit"),
    path("sla/<int:policy_id>/delete/", sla_policy_delete, name="sla_policy_delete"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/read/", notifications_read, name="notifications_read"),
]
