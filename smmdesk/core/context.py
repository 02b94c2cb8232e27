from django.conf import settings
from django.urls import reverse

from smmdesk.accounts.access import can
from smmdesk.accounts.roles import PERMISSIONS
from smmdesk.core.sections import BUILT, SECTIONS


def shell(request):
    """What the base layout needs: navigation, the workspace switcher and the language switcher."""
    workspace = getattr(request, "workspace", None)
    context = {"languages": settings.LANGUAGES, "current_workspace": workspace}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    context["memberships"] = list(user.memberships_in_order())
    if workspace is not None:
        nav = [
            (key, label, reverse(BUILT.get(key, f"core:section_{key}"), kwargs={"slug": workspace.slug}))
            for key, label, _ in SECTIONS
        ]
        context["nav"] = nav
        context["can_see_settings"] = can(request, "profile.view")
        # Permission names use dots; templates read them with underscores: {% if perms_ws.members_view %}.
        context["perms_ws"] = {name.replace(".", "_"): can(request, name) for name in PERMISSIONS}
    return context
