"""The HTTP API under /api/: personal bearer tokens or the browser session, the same role checks as views."""

import json
from functools import wraps

from django.http import Http404, JsonResponse
from django.utils import timezone
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from smmdesk import __version__
from smmdesk.accounts.access import membership_for
from smmdesk.accounts.models import ApiToken
from smmdesk.accounts.roles import allowed
from smmdesk.lib.crypto import token_hash

# The largest page offset accepted: an OFFSET past the database's integer range is an error, not an empty page.
MAX_OFFSET = 1_000_000


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        # Only touch the row once a minute: a busy client must not turn every GET into a write.
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class FieldError(Schema):
    field: str
    message: str


class InvalidOut(Schema):
    """The body of every 422: which field is wrong and why."""

    detail: str
    errors: list[FieldError]


def _unstorable_path(value, path=()):
    """The path of the first string that cannot be stored, or None.

    JSON may carry lone surrogates and NUL characters; PostgreSQL refuses both, so they are refused here
    once for every route, naming the field, instead of failing deep inside a save."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable_path(key, (*path, "key")) or _unstorable_path(item, (*path, str(key)))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable_path(item, (*path, str(index)))
            if found:
                return found
    return None


class RejectUnstorableJson:
    """Middleware for /api/: a JSON body that is not an object, is nested too deeply, or holds a value that
    cannot be stored gets a 4xx naming the field.

    It runs before django-ninja, which would turn any parser error into an anonymous 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and request.content_type == "application/json" and request.body:
            try:
                data = json.loads(request.body)
            except RecursionError:
                # ninja would meet the same depth in its own parser and fail with a 500.
                return _invalid("body", "nested too deeply", status=400)
            except ValueError:
                data = None  # ninja answers malformed JSON itself
            if data is not None and not isinstance(data, dict):
                # Every operation takes an object; ninja would read an empty list as an empty object.
                return _invalid("body", "must be a JSON object")
            bad = _unstorable_path(data)
            if bad is not None:
                return _invalid(
                    ".".join(bad) or "body",
                    "contains characters that are not allowed (NUL or a lone surrogate)",
                )
        return self.get_response(request)


def _invalid(field: str, message: str, status: int = 422) -> JsonResponse:
    return JsonResponse(
        {"detail": "invalid input", "errors": [{"field": field, "message": message}]}, status=status
    )


api = NinjaAPI(
    title="smmdesk API",
    version=__version__,
    auth=[ApiTokenAuth(), django_auth],
    urls_namespace="api",
    description="Personal API tokens are created in Account → API tokens and sent as `Authorization: Bearer <token>`.",
)


def requires(permission: str):
    """Mark an operation taking `slug` with the permission it needs; sets request.workspace/membership."""
    allowed(None, permission)

    def decorate(func):
        @wraps(func)
        def wrapper(request, slug: str, *args, **kwargs):
            membership = membership_for(request.auth, slug)
            if membership is None:
                raise HttpError(404, "no such workspace")
            if not allowed(membership.role, permission):
                raise HttpError(403, "your role does not allow this")
            request.workspace = membership.workspace
            request.membership = membership
            return func(request, slug, *args, **kwargs)

        wrapper.access = permission
        return wrapper

    return decorate


def user_operation(func):
    """An operation that only reads or writes the caller's own rows."""
    func.access = "user"
    return func


@api.exception_handler(ValidationError)
def validation_errors(request, exc):
    errors = []
    for error in exc.errors:
        # loc is like ["body", "payload", "name"]; the last parts name the field for the client.
        loc = [str(p) for p in error.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(loc) or "body", "message": error.get("msg", "invalid")})
    return api.create_response(request, {"detail": "invalid input", "errors": errors}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return api.create_response(request, {"detail": "authentication required"}, status=401)


def register_routers():
    from smmdesk.accounts.api import router as accounts_router
    from smmdesk.ads.api import router as ads_router
    from smmdesk.audience.api import router as audience_router
    from smmdesk.business.api import router as business_router
    from smmdesk.channels.api import router as channels_router
    from smmdesk.contests.api import router as contests_router
    from smmdesk.inbox.api import router as inbox_router
    from smmdesk.keywords.api import router as keywords_router
    from smmdesk.listening.api import router as listening_router
    from smmdesk.publishing.api import router as publishing_router
    from smmdesk.publishing.api_insights import router as publishing_insights_router
    from smmdesk.sites.api import router as sites_router

    api.add_router("/", accounts_router)
    api.add_router("/", business_router)
    api.add_router("/", channels_router)
    api.add_router("/", inbox_router)
    api.add_router("/", publishing_router)
    api.add_router("/", publishing_insights_router)
    api.add_router("/", listening_router)
    api.add_router("/", contests_router)
    api.add_router("/", audience_router)
    api.add_router("/", keywords_router)
    api.add_router("/", sites_router)
    api.add_router("/", ads_router)


register_routers()
