"""What every settings page shares: read-only forms for people who may not change them, the
save-or-show-errors step, and the success redirect."""

from django.contrib import messages
from django.forms import BaseForm
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from smmdesk.accounts.access import can
from smmdesk.business.actions import InvalidInput
from smmdesk.business.forms import make_read_only

get_or_post = require_http_methods(["GET", "HEAD", "POST"])


def page(request, template, tab, edit_permission, **context):
    can_edit = can(request, edit_permission)
    if not can_edit:
        for value in context.values():
            if isinstance(value, BaseForm):
                make_read_only(value)
    return render(
        request, template, {"tab": tab, "active_section": "settings", "can_edit": can_edit, **context}
    )


def saved(request, message, to, **kwargs):
    messages.success(request, message)
    return redirect(to, slug=request.workspace.slug, **kwargs)


def submit(request, form, save, message, to):
    """On POST run `save`: a redirect when it worked, else the refused form to show again.

    The view's workspace_view(write=...) has already refused a POST from anyone who may not edit."""
    if request.method != "POST":
        return None, form
    try:
        save()
    except InvalidInput as refused:
        return None, refused.form
    return saved(request, message, to), form
