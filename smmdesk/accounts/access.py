"""Every view and API operation declares who may reach it; tests/test_permissions.py enforces it.

`workspace_view(permission)` resolves the workspace from the URL for the signed-in member, answers 404 to
anyone outside it (so outsiders cannot even learn it exists) and 403 to a member whose role lacks the
permission.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import allowed


def membership_for(user, slug: str) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("workspace").filter(user=user, workspace__slug=slug).first()


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def workspace_view(permission: str, write: str | None = None):
    """`permission` guards reading; `write` (default: the same) guards POST and other unsafe methods,
    so one page can show a form to everyone who may read it and accept it only from who may change it."""
    write = write or permission
    allowed(None, permission)  # fail at import on a typo
    allowed(None, write)

    def decorate(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(request.user, slug)
            if membership is None:
                raise Http404("no such workspace")
            needed = permission if request.method in SAFE_METHODS else write
            if not allowed(membership.role, needed):
                raise PermissionDenied
            request.workspace = membership.workspace
            request.membership = membership
            return view(request, *args, **kwargs)

        wrapper.access = permission
        wrapper.write_access = write
        return wrapper

    return decorate


def user_view(view):
    """Any signed-in person; the view must only touch that person's own rows."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.access = "user"
    return wrapper


def public_view(view):
    view.access = "public"
    return view


def can(request, permission: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and allowed(membership.role, permission)
