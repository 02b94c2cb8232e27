"""The post's state machine: who may do what to a post in which state, the audit trail and the notices.

draft → in review → approved → scheduled → publishing → published | failed

- A drafter (publishing.draft) writes and submits; an approver (publishing.approve) approves or rejects
  with a comment. With approval switched off in the workspace's settings, a drafter schedules directly.
- Editing an approved or scheduled post keeps its approval only if the editor may approve; anyone else's
  edit sends it back to review (when approval is required), so no text reaches a network unreviewed.
- Once a variant is being published or is out, its post's content is history: no edits, no reschedule.
- The post's state after scheduling follows its variants (derive_state).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role, allowed
from smmdesk.publishing.models import Post, PostEvent, Variant

State = Post.State
VState = Variant.State

# Before approval: the drafter's own work.
UNAPPROVED = frozenset({State.DRAFT, State.IN_REVIEW})
# Approved and not yet started: editing these is "editing after approval".
APPROVED_STATES = frozenset({State.APPROVED, State.SCHEDULED})
# A variant in these states has reached (or may have reached) its network.
STARTED = frozenset({VState.PUBLISHING, VState.PUBLISHED})


class PublishingError(Exception):
    """A refused use case; `field` names the input at fault (for forms and the API)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def field_errors(self) -> list[tuple[str, str]]:
        return [(self.field or "__all__", self.message)]


class NotAllowed(PublishingError):
    """The member's role may not do this (a 403, not a 400)."""


class InvalidInput(PublishingError):
    """Refused input: (field, message) pairs, like business.actions.InvalidInput.field_errors().
    Variant fields are named "variants.<index>.<field>"."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors[0][1] if errors else _("Invalid input."), errors[0][0] if errors else None)
        self.errors = errors

    def field_errors(self) -> list[tuple[str, str]]:
        return list(self.errors)


# --- who may ------------------------------------------------------------------------------------------


def may(membership: Membership | None, permission: str) -> bool:
    return membership is not None and allowed(membership.role, permission)


def _member_of(membership: Membership | None, post: Post) -> bool:
    return membership is not None and membership.workspace_id == post.workspace_id


def started(post: Post) -> bool:
    """Some variant is being published or is out: the post's content and time are history."""
    return (
        post.state in (State.PUBLISHING, State.PUBLISHED) or post.variants.filter(state__in=STARTED).exists()
    )


def can_edit(membership: Membership | None, post: Post) -> bool:
    if not _member_of(membership, post) or started(post):
        return False
    if post.state in UNAPPROVED or post.state in APPROVED_STATES:
        # A drafter's edit after approval is allowed but costs the approval (see edit_outcome).
        return may(membership, "publishing.draft")
    # Failed: fixing the content before a retry is a manager's call, like the retry itself.
    return may(membership, "publishing.manage")


def edit_outcome(membership: Membership, post: Post, approval_required: bool) -> str | None:
    """The state an edit leaves the post in: None keeps it; IN_REVIEW when an approved post was changed
    by someone who may not approve it while approval is required."""
    if post.state in APPROVED_STATES and approval_required and not may(membership, "publishing.approve"):
        return State.IN_REVIEW
    return None


def can_delete(membership: Membership | None, post: Post) -> bool:
    if not _member_of(membership, post) or post.state == State.PUBLISHING:
        # A publication in flight finishes first; deleting under it would lose its network id.
        return False
    if may(membership, "publishing.manage"):
        return True
    own = post.created_by_id is not None and post.created_by_id == membership.pk
    return own and may(membership, "publishing.draft") and post.state in (UNAPPROVED | APPROVED_STATES)


def can_submit(membership: Membership | None, post: Post) -> bool:
    return _member_of(membership, post) and post.state == State.DRAFT and may(membership, "publishing.draft")


def can_approve(membership: Membership | None, post: Post) -> bool:
    return _member_of(membership, post) and post.state in UNAPPROVED and may(membership, "publishing.approve")


def can_reject(membership: Membership | None, post: Post) -> bool:
    if not _member_of(membership, post) or not may(membership, "publishing.approve"):
        return False
    return post.state == State.IN_REVIEW or (post.state in APPROVED_STATES and not started(post))


def can_schedule(membership: Membership | None, post: Post, approval_required: bool) -> bool:
    """Put the post on the calendar for publishing (or move it there)."""
    if not _member_of(membership, post) or not may(membership, "publishing.draft") or started(post):
        return False
    if post.state in APPROVED_STATES:
        return True
    if post.state in UNAPPROVED:
        return not approval_required or may(membership, "publishing.approve")
    return False


def can_reschedule(membership: Membership | None, post: Post) -> bool:
    """Move the post's time (the calendar's drag and drop): before publishing starts, any drafter."""
    return (
        _member_of(membership, post)
        and may(membership, "publishing.draft")
        and (post.state in UNAPPROVED or post.state in APPROVED_STATES)
        and not started(post)
    )


def can_retry(membership: Membership | None, variant: Variant) -> bool:
    return (
        _member_of(membership, variant.post)
        and may(membership, "publishing.manage")
        and variant.state in (VState.FAILED, VState.HELD)
    )


def allowed_actions(membership: Membership | None, post: Post, approval_required: bool) -> set[str]:
    """What the member may do to the post now, for buttons and the API's links."""
    checks = {
        "edit": can_edit(membership, post),
        "delete": can_delete(membership, post),
        "submit": can_submit(membership, post),
        "approve": can_approve(membership, post),
        "reject": can_reject(membership, post),
        "schedule": can_schedule(membership, post, approval_required),
        "reschedule": can_reschedule(membership, post),
        "unschedule": post.state == State.SCHEDULED and can_reschedule(membership, post),
    }
    return {name for name, ok in checks.items() if ok}


def require(ok: bool, message: str | None = None) -> None:
    if not ok:
        raise NotAllowed(message or _("You may not do this to this post."))


# --- what the variants say ----------------------------------------------------------------------------


def derive_state(states: list[str]) -> str:
    """A scheduled post's state from its variants' states: published when all are out, failed when one
    failed and none is still to go (a held variant is still to go), publishing once one has started."""
    if states and all(s == VState.PUBLISHED for s in states):
        return State.PUBLISHED
    waiting = any(s in (VState.PENDING, VState.HELD, VState.PUBLISHING) for s in states)
    if any(s == VState.FAILED for s in states) and not waiting:
        return State.FAILED
    if any(s in STARTED for s in states) or any(s == VState.FAILED for s in states):
        return State.PUBLISHING
    return State.SCHEDULED


# --- the trail and the notices -------------------------------------------------------------------------


def record(post: Post, action: str, actor: Membership | None = None, **detail) -> PostEvent:
    return PostEvent.objects.create(post=post, actor=actor, action=action, detail=detail)


def _label(post: Post) -> str:
    return post.title or _("post #%(id)s") % {"id": post.pk}


def _notify(memberships, kind: str, text, key: str) -> None:
    from smmdesk.inbox.notify import notify

    recipients = [m for m in memberships if m is not None]
    if recipients:
        notify(recipients, None, kind, text, key)


def approvers(workspace_id: int) -> list[Membership]:
    roles = [role for role in Role.values if allowed(role, "publishing.approve")]
    return list(Membership.objects.filter(workspace_id=workspace_id, role__in=roles))


def owners(workspace_id: int) -> list[Membership]:
    return list(Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER))


def notify_submitted(post: Post, by: Membership, event: PostEvent) -> None:
    who = by.user.name or by.user.email
    title = _label_lazy(post)
    _notify(
        [m for m in approvers(post.workspace_id) if m.pk != by.pk],
        "post_review",
        lambda: _("%(who)s asks you to review “%(title)s”.") % {"who": who, "title": title()},
        f"post-review:{post.pk}:{event.pk}",
    )


def notify_decided(post: Post, approved: bool, by: Membership, event: PostEvent) -> None:
    if post.created_by_id is None or post.created_by_id == by.pk:
        return
    who = by.user.name or by.user.email
    title = _label_lazy(post)
    comment = post.review_comment

    def text():
        if approved:
            return _("%(who)s approved “%(title)s”.") % {"who": who, "title": title()}
        return _("%(who)s sent “%(title)s” back: %(comment)s") % {
            "who": who,
            "title": title(),
            "comment": comment,
        }

    _notify([post.created_by], "post_review", text, f"post-decided:{post.pk}:{event.pk}")


def notify_failed(variant: Variant, reason: str) -> None:
    """Owners hear of every failed publication once (per variant and attempt count)."""
    post = variant.post
    title = _label_lazy(post)
    channel = variant.channel.name
    _notify(
        owners(post.workspace_id),
        "post_failed",
        lambda: (
            _("“%(title)s” was not published on %(channel)s: %(reason)s")
            % {"title": title(), "channel": channel, "reason": reason}
        ),
        f"post-failed:{variant.pk}:{variant.attempts}:{variant.occurrence or ''}",
    )


def _label_lazy(post: Post):
    # Rendered in each reader's language ("post #12" is translated).
    return lambda: _label(post)
