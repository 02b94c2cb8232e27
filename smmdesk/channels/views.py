"""Settings → Channels: list, add (choose a network, then its generated form), edit, check, enable/disable,
delete. Each view parses, calls one action and renders; rows are always looked up inside the workspace
from the URL, so another workspace's id is simply not found."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import workspace_view
from smmdesk.channels import actions, registry
from smmdesk.channels.base import CAPABILITY_LABELS, Capability
from smmdesk.channels.forms import build_form_class, initial_for
from smmdesk.channels.models import Channel
from smmdesk.lib.redirects import back


def _page(request, template, status=200, **context):
    return render(
        request, template, {"tab": "channels", "active_section": "settings", **context}, status=status
    )


def _channel(request, pk) -> Channel:
    return get_object_or_404(Channel, pk=pk, workspace=request.workspace)


def _list_url(request) -> str:
    return reverse("channels:list", kwargs={"slug": request.workspace.slug})


def _back(request):
    """Where a plain (non-HTMX) button press returns to: the page it came from, if it is ours."""
    return back(request, _list_url(request))


def _row(request, channel):
    # The re-rendered row keeps sending people back to the page they are on.
    next_url = request.htmx.current_url_abs_path if request.htmx else None
    return render(
        request, "channels/_row.html", {"channel": channel, "next_url": next_url or _list_url(request)}
    )


@workspace_view("channels.view")
def channel_list(request):
    channels = Channel.objects.filter(workspace=request.workspace)
    return _page(request, "channels/list.html", channels=channels, next_url=request.get_full_path())


@workspace_view("channels.manage")
def add(request):
    kinds = [
        {
            "info": info,
            "capabilities": [CAPABILITY_LABELS[Capability(c)] for c in info.capabilities],
            "paid": [CAPABILITY_LABELS[Capability(c)] for c in info.paid],
        }
        for info in actions.describe_kinds()
    ]
    return _page(request, "channels/add.html", kinds=kinds)


@workspace_view("channels.manage")
def add_kind(request, kind):
    adapter_class = registry.ADAPTERS.get(kind)
    if adapter_class is None:
        raise Http404("no such network")
    form = build_form_class(adapter_class)(
        request.POST if request.method == "POST" else None, workspace=request.workspace
    )
    if request.method == "POST" and form.is_valid():
        try:
            channel = actions.create_channel(
                request.workspace,
                kind,
                form.cleaned_data["name"],
                form.config_values(),
                actor=request.user,
                request=request,
            )
        except actions.ChannelInputError as exc:
            form.apply_errors(exc.errors)
        else:
            messages.success(
                request,
                _("Channel “%(name)s” added. Check it to see whether the credentials work.")
                % {"name": channel.name},
            )
            return redirect(_list_url(request))
    return _page(
        request,
        "channels/form.html",
        form=form,
        kind_label=adapter_class.label,
        help_text=adapter_class.help_text,
        channel=None,
        status=400 if form.errors else 200,
    )


@workspace_view("channels.manage")
def edit(request, pk):
    channel = _channel(request, pk)
    if not channel.known_kind:
        raise Http404("this network is no longer available")
    form_class = build_form_class(channel.adapter_class, channel)
    if request.method == "POST":
        form = form_class(request.POST, workspace=request.workspace, channel=channel)
        if form.is_valid():
            try:
                actions.update_channel(
                    channel,
                    name=form.cleaned_data["name"],
                    values=form.config_values(),
                    clear=form.clear_requests(),
                    actor=request.user,
                    request=request,
                )
            except actions.ChannelInputError as exc:
                form.apply_errors(exc.errors)
            except Channel.DoesNotExist:
                raise Http404("deleted meanwhile")
            else:
                messages.success(request, _("Channel saved."))
                return redirect("channels:edit", slug=request.workspace.slug, pk=channel.pk)
    else:
        form = form_class(initial=initial_for(channel), workspace=request.workspace, channel=channel)
    return _page(
        request,
        "channels/form.html",
        form=form,
        kind_label=channel.kind_label,
        channel=channel,
        channels=[channel],
        next_url=request.get_full_path(),
        status=400 if form.errors else 200,
    )


@workspace_view("channels.manage")
@require_POST
def check(request, pk):
    channel = _channel(request, pk)
    if channel.is_enabled:
        channel = actions.check_channel(channel.pk)
        if channel is None:  # deleted while the check ran
            raise Http404("no such channel")
    if request.htmx:
        return _row(request, channel)
    if not channel.is_enabled:
        messages.error(request, _("Disabled channels are not checked. Enable it first."))
    elif channel.status == Channel.Status.OK:
        messages.success(request, _("“%(name)s” works.") % {"name": channel.name})
    else:
        messages.error(
            request,
            _("“%(name)s”: %(status)s. %(error)s")
            % {"name": channel.name, "status": channel.get_status_display(), "error": channel.last_error},
        )
    return _back(request)


@workspace_view("channels.manage")
@require_POST
def toggle(request, pk):
    channel = _channel(request, pk)
    try:
        channel = actions.set_enabled(channel, not channel.is_enabled)
    except Channel.DoesNotExist:
        raise Http404("deleted meanwhile")
    if request.htmx:
        return _row(request, channel)
    if channel.is_enabled:
        messages.success(request, _("“%(name)s” enabled.") % {"name": channel.name})
    else:
        messages.success(request, _("“%(name)s” disabled.") % {"name": channel.name})
    return _back(request)


@workspace_view("channels.manage")
@require_POST
def delete(request, pk):
    channel = _channel(request, pk)
    actions.delete_channel(channel, actor=request.user, request=request)
    messages.success(request, _("Channel “%(name)s” deleted.") % {"name": channel.name})
    return redirect(_list_url(request))
