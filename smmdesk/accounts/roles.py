"""Roles and what each may do. Views and API operations name a permission, never a role."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    SMM_MANAGER = "smm_manager", _("SMM manager")
    CONTENT_MANAGER = "content_manager", _("Content manager")
    AGENT = "agent", _("Agent")
    VIEWER = "viewer", _("Viewer")


ALL = frozenset(Role.values)
MANAGERS = frozenset({Role.OWNER, Role.SMM_MANAGER})

PERMISSIONS: dict[str, frozenset[str]] = {
    # Reading the workspace's pages.
    "workspace.view": ALL,
    "profile.view": ALL,
    "profile.edit": MANAGERS,
    "channels.view": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    "channels.manage": MANAGERS,
    "members.view": MANAGERS,
    "members.manage": frozenset({Role.OWNER}),
    "audit.view": frozenset({Role.OWNER}),
    "inbox.view": ALL,
    "inbox.reply": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.AGENT}),
    "inbox.manage": MANAGERS,
    "inbox.moderate": MANAGERS,
    "publishing.view": ALL,
    "publishing.draft": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    "publishing.approve": MANAGERS,
    # Settings, deleting anyone's post, retrying failures, editing after approval.
    "publishing.manage": MANAGERS,
    "listening.view": ALL,
    # Marking mentions handled and sending them to the inbox: whoever answers customers.
    "listening.handle": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.AGENT}),
    # Tracked terms, sources, dismissing trends.
    "listening.manage": MANAGERS,
    "contests.view": ALL,
    # Creating, closing and drawing contests, disqualifying entries.
    "contests.manage": MANAGERS,
    # Orders hold the clients' gender and age: the people who plan posts and ads, not agents or viewers.
    "audience.view": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    # Importing and typing in orders, mapping service names, saving segments.
    "audience.manage": MANAGERS,
    "keywords.view": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    # Generating, importing volumes, editing clusters and negative keywords.
    "keywords.manage": MANAGERS,
    "sites.view": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    # Writing page copy: the content manager's job.
    "sites.edit": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    # Publishing pages, exporting the site, importing positions and visits.
    "sites.manage": MANAGERS,
    # Campaigns show spend and orders: the people who plan the marketing.
    "ads.view": frozenset({Role.OWNER, Role.SMM_MANAGER, Role.CONTENT_MANAGER}),
    # Building and exporting campaigns, importing stats, setting targets.
    "ads.manage": MANAGERS,
}


def allowed(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role in PERMISSIONS[permission]
