"""Where a form sends the browser back to: the "next" it posted, if that is a path on this site."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def local_path(request, value: str | None) -> str | None:
    """`value` if it is a path on this site (not another host, not a view name), else None. Only a path:
    redirect() would take any other word for a view name and fail to reverse it (a 500)."""
    if not value or not value.startswith("/"):
        return None
    if not url_has_allowed_host_and_scheme(value, {request.get_host()}, require_https=request.is_secure()):
        return None
    return value


def back(request, default: str) -> HttpResponseRedirect:
    """To the page the form came from (its posted "next"), if it is ours, else to `default`."""
    target = local_path(request, request.POST.get("next", ""))
    return HttpResponseRedirect(target) if target else redirect(default)
