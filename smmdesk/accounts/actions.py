"""Use cases for people, workspaces, memberships, invitations, API tokens and the security audit log."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from smmdesk.accounts.models import (
    INVITATION_LIFETIME,
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    User,
    Workspace,
)
from smmdesk.accounts.roles import Role
from smmdesk.lib.crypto import new_token, token_hash

Action = AuditEvent.Action


class ActionError(Exception):
    """A use case refused; the message is for the person and `field` names the input at fault."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def client_ip(request) -> str | None:
    # Behind a proxy REMOTE_ADDR is the proxy; deployments that need the client address set it there.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit(action, *, actor=None, workspace=None, email="", request=None, **detail) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        workspace=workspace,
        email=email or (actor.email if actor is not None and actor.pk else ""),
        ip=client_ip(request),
        detail=detail,
    )


def audit_events(workspace: Workspace, limit: int = 200):
    """The workspace's own events, plus account events (logins, tokens) of its current members."""
    emails = workspace.memberships.values_list("user__email", flat=True)
    own = Q(workspace=workspace) | Q(workspace__isnull=True, email__in=list(emails))
    return AuditEvent.objects.filter(own).select_related("actor").order_by("-created_at")[:limit]


def is_throttled(email: str, ip: str | None) -> bool:
    """Too many failed logins for this e-mail or from this address within the window.

    Counted from the audit log, so every web process sees the same count.
    """
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, created_at__gte=since)
    who = Q(email__iexact=email) if email else Q(pk__in=[])
    if ip:
        who |= Q(ip=ip)
    return failures.filter(who).count() >= settings.LOGIN_THROTTLE_LIMIT


def check_login(request, email: str, password: str) -> User:
    email = (email or "").strip().lower()
    ip = client_ip(request)
    if is_throttled(email, ip):
        audit(Action.LOGIN_FAILED, email=email, request=request, reason="throttled")
        raise ActionError(_("Too many failed attempts. Try again in 15 minutes."))
    user = authenticate(request, username=email, password=password)
    if user is None:
        audit(Action.LOGIN_FAILED, email=email, request=request, reason="bad credentials")
        raise ActionError(_("E-mail or password is wrong."))
    audit(Action.LOGIN, actor=user, request=request)
    return user


def set_language(request, response, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        return
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=False,
    )
    user = request.user
    if user.is_authenticated and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_workspace(owner: User, name: str, slug: str = "", city: str = "") -> Workspace:
    from smmdesk.business.models import BusinessProfile

    slug = slug or unique_slug(name)
    if Workspace.objects.filter(slug=slug).exists():
        raise ActionError(_("This address is taken."), field="slug")
    workspace = Workspace.objects.create(name=name, slug=slug)
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    BusinessProfile.objects.create(workspace=workspace, name=name, city=city, languages=["en"])
    return workspace


def invite(workspace: Workspace, by: User, email: str, role: str, request=None) -> tuple[Invitation, str]:
    email = email.strip().lower()
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ActionError(_("This person is already a member."), field="email")
    raw = new_token()
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=token_hash(raw),
        invited_by=by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit(Action.INVITATION_CREATED, actor=by, workspace=workspace, request=request, invited=email, role=role)
    return invitation, raw


def open_invitation(raw: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("workspace").filter(token_hash=token_hash(raw)).first()
    return invitation if invitation is not None and invitation.is_open else None


@transaction.atomic
def accept_invitation(raw: str, user: User, request=None) -> Membership:
    invitation = open_invitation(raw)
    if invitation is None:
        raise ActionError(_("This invitation has expired or was already used."))
    # Claim it with a conditional update so a double click cannot add the person twice.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if not claimed:
        raise ActionError(_("This invitation has expired or was already used."))
    return add_member(invitation.workspace, user, invitation.role, request=request)


def revoke_invitation(workspace: Workspace, invitation_id: int) -> None:
    Invitation.objects.filter(workspace=workspace, pk=invitation_id, accepted_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _guard_last_owner(membership: Membership) -> None:
    if (
        membership.role == Role.OWNER
        and not Membership.objects.filter(workspace=membership.workspace, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ActionError(_("A workspace needs at least one owner."), field="role")


@transaction.atomic
def change_role(workspace: Workspace, by: User, membership_id: int, role: str, request=None) -> Membership:
    membership = Membership.objects.select_for_update().get(workspace=workspace, pk=membership_id)
    if role not in Role.values:
        raise ActionError(_("Unknown role."), field="role")
    if membership.role == role:
        return membership
    _guard_last_owner(membership)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(
        Action.ROLE_CHANGED,
        actor=by,
        workspace=workspace,
        request=request,
        member=membership.user.email,
        old=old,
        new=role,
    )
    return membership


@transaction.atomic
def remove_member(workspace: Workspace, by: User, membership_id: int, request=None) -> None:
    membership = Membership.objects.select_for_update().get(workspace=workspace, pk=membership_id)
    _guard_last_owner(membership)
    membership.delete()
    audit(Action.MEMBER_REMOVED, actor=by, workspace=workspace, request=request, member=membership.user.email)


def create_api_token(user: User, name: str, request=None) -> tuple[ApiToken, str]:
    raw = new_token("smd_")
    token = ApiToken.objects.create(user=user, name=name, token_hash=token_hash(raw), prefix=raw[:10])
    audit(Action.API_TOKEN_CREATED, actor=user, request=request, token=token.prefix, name=name)
    return token, raw


def revoke_api_token(user: User, token_id: int, request=None) -> bool:
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        return False
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    audit(Action.API_TOKEN_REVOKED, actor=user, request=request, token=token.prefix, name=token.name)
    return True


def add_member(
    workspace: Workspace, user: User, role: str, by: User | None = None, request=None
) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, workspace=workspace, defaults={"role": role}
    )
    if created:
        audit(
            Action.MEMBER_ADDED,
            actor=by or user,
            workspace=workspace,
            request=request,
            role=role,
            member=user.email,
        )
    return membership


def create_user(email: str, password: str, name: str = "", superuser: bool = False) -> User:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ActionError(_("A user with this e-mail exists."), field="email")
    make = User.objects.create_superuser if superuser else User.objects.create_user
    return make(email, password, name=name)
