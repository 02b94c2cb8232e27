from smmdesk.accounts.roles import allowed
from smmdesk.channels.models import Channel


def dashboard(workspace, membership) -> dict:
    """The overview: what is connected, what is set up, and what to do next."""
    profile = getattr(workspace, "profile", None)
    channels = list(Channel.objects.filter(workspace=workspace))
    steps = [
        ("profile", profile is not None and bool(profile.city)),
        ("hours", workspace.opening_hours.exists()),
        ("services", workspace.services.exists()),
        ("departments", workspace.departments.exists()),
        ("channels", bool(channels)),
    ]
    return {
        "profile": profile,
        "channels": channels,
        "steps": steps,
        "services": list(workspace.services.all()),
        "departments": list(workspace.departments.all()),
        "member_count": workspace.memberships.count(),
        "can_manage": allowed(membership.role, "profile.edit"),
    }
