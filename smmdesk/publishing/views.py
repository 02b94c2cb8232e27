"""The post editor, a post's page and its workflow buttons, and the publishing settings.

Each view parses, calls one use case from publishing.actions and renders or redirects; posts are always
looked up inside the workspace from the URL, so another workspace's id is simply not found. What the
member may do to a post comes from workflow.allowed_actions, the same rules the use cases enforce, so
a button is shown exactly when pressing it can work. The calendar is in calendar_views.py, the media
library in media.py, the live preview in preview.py, the plan import in import_views.py and the
performance page in report_views.py.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from smmdesk.accounts.access import workspace_view
from smmdesk.publishing import actions, besttime, preview, reports, scheduling, workflow
from smmdesk.publishing.forms import EditorForms, RejectForm, ScheduleForm, SettingsForm
from smmdesk.publishing.models import Post, PostEvent, Variant

VIEW, DRAFT, APPROVE, MANAGE = (
    "publishing.view",
    "publishing.draft",
    "publishing.approve",
    "publishing.manage",
)
# How long before its time a post's page starts refreshing its channels' states by itself.
LIVE_BEFORE = timedelta(minutes=15)
EVENT_LABELS = {
    "created": gettext_lazy("created the post"),
    "edited": gettext_lazy("edited it"),
    "submitted": gettext_lazy("submitted it for review"),
    "approved": gettext_lazy("approved it"),
    "rejected": gettext_lazy("sent it back"),
    "scheduled": gettext_lazy("scheduled it"),
    "rescheduled": gettext_lazy("moved it"),
    "published": gettext_lazy("published it"),
    "failed": gettext_lazy("publishing failed"),
    "retried": gettext_lazy("retried publishing"),
    "held": gettext_lazy("held it: the channel needs reconnecting"),
    "deleted": gettext_lazy("deleted it"),
}


# Helpers shared with calendar_views, media and import_views


def publishing_url(request, name: str, **kwargs) -> str:
    return reverse(f"publishing:{name}", kwargs={"slug": request.workspace.slug, **kwargs})


def post_url(request, post: Post, verb: str = "") -> str:
    return publishing_url(request, f"post_{verb}" if verb else "post", post_id=post.pk)


def error_text(form) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(": ")
        for name, errors in form.errors.items()
    )


def render_page(request, template: str, context: dict, status: int = 200):
    # Times read as the business's clock, wherever the member sits.
    with timezone.override(scheduling.workspace_zone(request.workspace)):
        return render(request, template, {"active_section": "publishing", **context}, status=status)


def _post(request, post_id) -> Post:
    return get_object_or_404(
        Post.objects.select_related("campaign", "created_by__user", "approved_by__user").prefetch_related(
            Prefetch("variants", queryset=Variant.objects.select_related("channel").prefetch_related("media"))
        ),
        pk=post_id,
        workspace=request.workspace,
    )


def _refused(request, post: Post, error: workflow.PublishingError):
    """A refused use case: its reason at the top of the post's page."""
    if isinstance(error, actions.InvalidInput):
        messages.error(request, " ".join(message for _field, message in error.field_errors()))
    else:
        messages.error(request, error.message)
    return redirect(post_url(request, post))


# The editor


def _best_times(request) -> list[dict]:
    """The next best slot per channel (besttime), as date and time the editor can fill in."""
    zone = scheduling.workspace_zone(request.workspace)
    now = timezone.now()
    suggestions = []
    for suggestion in besttime.suggest_all(request.workspace, now):
        moments = sorted(besttime.next_time(slot, zone, now) for slot in suggestion.slots)
        suggestions.append(
            {
                "channel": suggestion.channel,
                "measured": suggestion.source == "history",
                "times": [scheduling.to_local(moment, zone) for moment in moments],
            }
        )
    return suggestions


def _editor(request, forms: EditorForms, post: Post | None, status: int = 200):
    chosen = set(forms.chosen())
    settings = actions.settings_for(request.workspace)
    sections = [
        {
            "form": form,
            "channel": form.channel,
            "limits": form.limits,
            "chosen": form.channel.pk in chosen,
            "assets": forms.assets,
        }
        for form in forms.variant_forms
    ]
    cards = (
        [preview.card(request.workspace, c, v, m) for c, v, m in forms.unsaved()]
        if forms.post_form.is_bound
        else preview.saved_cards(request.workspace, post.variants.all())
        if post is not None
        else []
    )
    approval_required = settings.approval_required
    return render_page(
        request,
        "publishing/editor.html",
        {
            "post": post,
            "post_form": forms.post_form,
            "sections": sections,
            "cards": cards,
            "best_times": _best_times(request),
            "can_submit": approval_required and (post is None or post.state == Post.State.DRAFT),
            "loses_approval": post is not None
            and workflow.edit_outcome(request.membership, post, approval_required) == Post.State.IN_REVIEW,
            "tab": "calendar",
        },
        status=status,
    )


def _save(request, forms: EditorForms, post: Post | None):
    if not forms.is_valid():
        messages.error(request, _("The post was not saved: correct the fields marked below."))
        return _editor(request, forms, post, status=400)
    try:
        if post is None:
            post = actions.create_post(request.membership, forms.data())
        else:
            post = actions.update_post(request.membership, post, forms.data())
    except actions.InvalidInput as error:
        forms.add_errors(error.field_errors())
        messages.error(request, _("The post was not saved: correct the fields marked below."))
        return _editor(request, forms, post, status=400)
    except workflow.PublishingError as error:
        if post is None:
            raise PermissionDenied(error.message)
        # Changed under the editor (published meanwhile, say): the post's page says why.
        return _refused(request, post, error)
    if request.POST.get("action") == "submit":
        try:
            actions.submit(request.membership, post)
        except workflow.PublishingError as error:
            return _refused(request, post, error)
        messages.success(request, _("Saved and sent for review."))
    else:
        messages.success(request, _("Saved."))
    return redirect(post_url(request, post))


@workspace_view(DRAFT)
def post_new(request):
    if request.method == "POST":
        return _save(request, EditorForms(request.workspace, data=request.POST), None)
    forms = EditorForms(request.workspace)
    # "New post" from a calendar day starts on that day.
    day = request.GET.get("date", "")
    if day:
        forms.post_form.initial["date"] = day
    return _editor(request, forms, None)


@workspace_view(DRAFT)
def post_edit(request, post_id):
    post = _post(request, post_id)
    if not workflow.can_edit(request.membership, post):
        messages.error(request, _("This post can no longer be changed by you."))
        return redirect(post_url(request, post))
    if request.method == "POST":
        return _save(request, EditorForms(request.workspace, data=request.POST, post=post), post)
    return _editor(request, EditorForms(request.workspace, post=post), post)


# A post's page


def _events(post: Post, zone) -> list[dict]:
    rows = PostEvent.objects.filter(post=post).select_related("actor__user").order_by("created_at", "pk")
    events = []
    for event in rows:
        detail = event.detail if isinstance(event.detail, dict) else {}
        note = str(detail.get("comment") or "")
        if event.action == "failed":
            note = str(detail.get("reason") or "")
        when = detail.get("at") if event.action in ("scheduled", "rescheduled") else None
        moment = parse_datetime(when) if isinstance(when, str) else None
        events.append(
            {
                "who": str(event.actor.user) if event.actor else _("smmdesk"),
                "what": EVENT_LABELS.get(event.action, event.action),
                "channel": str(detail.get("channel") or ""),
                "at": scheduling.to_local(moment, zone) if moment else None,
                "comment": note,
                "when": scheduling.to_local(event.created_at, zone),
            }
        )
    return events


def _variant_rows(request, post: Post) -> list[dict]:
    figures = (
        reports.post_figures(post)
        if post.state in (Post.State.PUBLISHED, Post.State.PUBLISHING, Post.State.FAILED)
        else {}
    )
    rows = []
    for variant in post.variants.all():
        variant.post = post
        retry = workflow.can_retry(request.membership, variant)
        rows.append(
            {
                "variant": variant,
                "link": variant.url if variant.url.startswith(("https://", "http://")) else "",
                "can_retry": retry,
                "needs_confirmation": retry and actions.needs_confirmation(variant),
                "figures": figures.get(variant.pk, {}),
            }
        )
    return rows


def _post_page(request, post: Post, reject_form=None, schedule_form=None, status=200):
    settings = actions.settings_for(request.workspace)
    zone = scheduling.workspace_zone(request.workspace)
    allowed = workflow.allowed_actions(request.membership, post, settings.approval_required)
    if schedule_form is None:
        initial = {}
        if post.scheduled_at:
            local = scheduling.to_local(post.scheduled_at, zone)
            initial = {"date": local.date(), "time": local.time().replace(second=0, microsecond=0)}
        schedule_form = ScheduleForm(workspace=request.workspace, initial=initial, auto_id="schedule_%s")
    return render_page(
        request,
        "publishing/post.html",
        {
            "post": post,
            "allowed": allowed,
            "approval_required": settings.approval_required,
            "local_time": scheduling.to_local(post.scheduled_at, zone) if post.scheduled_at else None,
            "variants": _variant_rows(request, post),
            "cards": preview.saved_cards(request.workspace, post.variants.all()),
            "events": _events(post, zone),
            "reject_form": reject_form or RejectForm(auto_id="reject_%s"),
            "schedule_form": schedule_form,
            "zone": zone.key,
            "tab": "calendar",
            "live": post.state in (Post.State.SCHEDULED, Post.State.PUBLISHING)
            and post.scheduled_at is not None
            and post.scheduled_at - timezone.now() <= LIVE_BEFORE,
        },
        status=status,
    )


@workspace_view(VIEW)
@require_safe
def post_page(request, post_id):
    return _post_page(request, _post(request, post_id))


def _workflow_view(permission: str, verb: str, done_message):
    """A POST-only button on the post's page that calls one use case without input."""

    @workspace_view(VIEW, write=permission)
    @require_POST
    def view(request, post_id):
        post = _post(request, post_id)
        try:
            getattr(actions, verb)(request.membership, post)
        except workflow.PublishingError as error:
            return _refused(request, post, error)
        messages.success(request, str(done_message))
        return redirect(post_url(request, post))

    view.__name__ = f"post_{verb}"
    return view


post_submit = _workflow_view(DRAFT, "submit", gettext_lazy("Sent for review."))
post_approve = _workflow_view(APPROVE, "approve", gettext_lazy("Approved."))
post_unschedule = _workflow_view(
    DRAFT, "unschedule", gettext_lazy("Taken off the schedule; it keeps its planned time.")
)


@workspace_view(VIEW, write=APPROVE)
@require_POST
def post_reject(request, post_id):
    post = _post(request, post_id)
    form = RejectForm(request.POST, auto_id="reject_%s")
    if not form.is_valid():
        return _post_page(request, post, reject_form=form, status=400)
    try:
        actions.reject(request.membership, post, form.cleaned_data["comment"])
    except workflow.PublishingError as error:
        return _refused(request, post, error)
    messages.success(request, _("Sent back to the author with your comment."))
    return redirect(post_url(request, post))


@workspace_view(VIEW, write=DRAFT)
@require_POST
def post_schedule(request, post_id):
    post = _post(request, post_id)
    form = ScheduleForm(request.POST, workspace=request.workspace, auto_id="schedule_%s")
    if not form.is_valid():
        return _post_page(request, post, schedule_form=form, status=400)
    try:
        actions.schedule(request.membership, post, form.moment())
    except actions.InvalidInput as error:
        for _field, message in error.field_errors():
            form.add_error("date", message)
        return _post_page(request, post, schedule_form=form, status=400)
    except workflow.PublishingError as error:
        return _refused(request, post, error)
    messages.success(request, _("Scheduled."))
    return redirect(post_url(request, post))


@workspace_view(VIEW, write=DRAFT)
@require_POST
def post_delete(request, post_id):
    post = _post(request, post_id)
    try:
        actions.delete_post(request.membership, post)
    except workflow.PublishingError as error:
        return _refused(request, post, error)
    messages.success(request, _("The post was deleted."))
    return redirect(publishing_url(request, "calendar"))


@workspace_view(VIEW, write=MANAGE)
@require_POST
def variant_retry(request, variant_id):
    variant = get_object_or_404(
        Variant.objects.select_related("post", "channel"), pk=variant_id, post__workspace=request.workspace
    )
    try:
        actions.retry_variant(
            request.membership, variant, confirmed_absent=request.POST.get("confirmed_absent") == "1"
        )
    except workflow.PublishingError as error:
        return _refused(request, variant.post, error)
    messages.success(request, _("Publishing on %(channel)s again.") % {"channel": variant.channel.name})
    return redirect(post_url(request, variant.post))


# Settings


@workspace_view(MANAGE)
def settings_page(request):
    settings = actions.settings_for(request.workspace)
    data = request.POST if request.method == "POST" else None  # an unticked box posts nothing at all
    form = SettingsForm(data, initial={"approval_required": settings.approval_required})
    if request.method == "POST":
        if form.is_valid():
            actions.update_settings(
                request.membership, approval_required=form.cleaned_data["approval_required"]
            )
            messages.success(request, _("Publishing settings saved."))
            return redirect(publishing_url(request, "settings"))
        messages.error(request, error_text(form))
    feed = request.build_absolute_uri(reverse("publishing_ical", kwargs={"token": settings.ical_token}))
    return render_page(
        request, "publishing/settings.html", {"form": form, "feed_url": feed, "tab": "settings"}
    )


@workspace_view(MANAGE)
@require_POST
def ical_rotate(request):
    actions.rotate_ical_token(request.membership)
    messages.success(request, _("The calendar feed has a new address; the old one no longer works."))
    return redirect(publishing_url(request, "settings"))


urlpatterns = [
    path("posts/new/", post_new, name="post_new"),
    path("posts/<int:post_id>/", post_page, name="post"),
    path("posts/<int:post_id>/edit/", post_edit, name="post_edit"),
    path("posts/<int:post_id>/submit/", post_submit, name="post_submit"),
    path("posts/<int:post_id>/approve/", post_approve, name="post_approve"),
    path("posts/<int:post_id>/reject/", post_reject, name="post_reject"),
    path("posts/<int:post_id>/schedule/", post_schedule, name="post_schedule"),
    path("posts/<int:post_id>/unschedule/", post_unschedule, name="post_unschedule"),
    path("posts/<int:post_id>/delete/", post_delete, name="post_delete"),
    path("variants/<int:variant_id>/retry/", variant_retry, name="variant_retry"),
    path("settings/", settings_page, name="settings"),
    path("settings/ical/rotate/", ical_rotate, name="ical_rotate"),
]
