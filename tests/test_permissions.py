"""Every URL and API route is checked for each role of the workspace and for an outsider.

A view added without an access declaration, or one that lets the wrong role in, fails here.
"""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from smmdesk.accounts.roles import PERMISSIONS, allowed
from smmdesk.api import api

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
SKIP_NAMESPACES = {"admin", "api"}  # checked by their own tests below


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or ""
            if ns in SKIP_NAMESPACES or getattr(p, "app_name", "") in SKIP_NAMESPACES:
                continue
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns or namespace)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p, f"{namespace}:{p.name}" if namespace else p.name


ROUTES = list(walk(get_resolver().url_patterns))


def sample_objects(cast):
    """One object of each kind that a URL can name, in the cast's workspace and in the other one."""
    from smmdesk.accounts.models import Invitation, Membership
    from smmdesk.business.models import Department, HolidayException, Service
    from smmdesk.channels.fake.adapter import FakeConfig
    from smmdesk.channels.models import Channel

    def objects_in(workspace):
        channel = Channel(workspace=workspace, kind="fake", name="VK")
        channel.store_config(FakeConfig(account_id=f"acc-{workspace.slug}", api_token="token-123456"))
        channel.save()
        from datetime import date, timedelta

        from django.core.files.base import ContentFile
        from django.utils import timezone

        from smmdesk.inbox.models import (
            CannedReply,
            Conversation,
            HandOff,
            Message,
            RoutingRule,
            SlaPolicy,
        )
        from smmdesk.publishing.models import MediaAsset

        department = Department.objects.create(workspace=workspace, name="Reception")
        asset = MediaAsset(
            workspace=workspace, kind="image", content_type="image/gif", size=35, original_name="dot.gif"
        )
        # A real file (a 1x1 GIF), so the views that serve it have something to serve.
        dot = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
        dot += b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
        asset.file.save("dot.gif", ContentFile(dot), save=False)
        asset.thumbnail.save("dot.gif", ContentFile(dot), save=False)
        asset.save()
        conversation = Conversation.objects.create(
            workspace=workspace, channel=channel, kind="comment", thread_key="post:1", department=department
        )
        message = Message.objects.create(
            workspace=workspace,
            channel=channel,
            conversation=conversation,
            direction="in",
            external_id="c-1",
            text="Плохо подстригли",
            author_name="Customer",
        )
        from smmdesk.publishing.models import Post, Variant

        post = Post.objects.create(
            workspace=workspace,
            title="Весенняя акция",
            created_by=Membership.objects.filter(workspace=workspace, role="content_manager").first(),
        )
        variant = Variant.objects.create(post=post, channel=channel, text="Стрижка -20%")
        from smmdesk.listening.models import Mention, Source, TrackedTerm, Trend

        mention = Mention.objects.create(
            workspace=workspace,
            channel=channel,
            external_id="m-1",
            text="Локон #стрижка",
            published_at=timezone.now(),
        )
        trend = Trend.objects.create(
            workspace=workspace, kind="hashtag", key="#стрижка", score=5.0, started_at=timezone.now()
        )
        trend.examples.add(mention)
        from smmdesk.contests.models import Contest, Entrant

        contest = Contest.objects.create(
            workspace=workspace,
            title="Giveaway",
            channel=channel,
            post_external_id="post-1",
            opens_at=timezone.now(),
            closes_at=timezone.now() + timedelta(days=7),
            proof_token=f"proof-{workspace.slug}",
        )
        entrant = Entrant.objects.create(contest=contest, author_id="id1", kinds=["comment"])
        from smmdesk.audience.models import ImportJob, Order, Segment

        # A finished import: its pages and errors can be read, and it cannot be run again.
        job = ImportJob.objects.create(
            workspace=workspace,
            file_name="orders.csv",
            file_format="csv",
            status="done",
            headers=["order_id"],
        )
        from smmdesk.keywords.models import Cluster, Keyword, Landmark, NegativeKeyword
        from smmdesk.sites.models import Page

        cluster = Cluster.objects.create(workspace=workspace, name="женская стрижка", language="ru")
        keyword = Keyword.objects.create(
            workspace=workspace,
            query="женская стрижка",
            normalized="женский стрижка",
            language="ru",
            kind="direct",
            intent="commercial",
            cluster=cluster,
        )
        cluster.main = keyword
        cluster.save()
        page = Page.objects.create(
            workspace=workspace,
            cluster=cluster,
            slug="zhenskaya-strizhka",
            language="ru",
            title="Женская стрижка",
            description="Женская стрижка в Ленинском районе",
            h1="Женская стрижка",
            intro="Женская стрижка в Ленинском районе.",
        )
        from smmdesk.ads.models import Ad, Campaign

        campaign = Campaign.objects.create(
            workspace=workspace, name="Стрижки", kind="contextual", platform="google", utm_campaign="cuts"
        )
        ad = Ad.objects.create(campaign=campaign, headlines=["Стрижка"], descriptions=["Рядом с домом"])
        from smmdesk.ads.models import StatsUpload

        stats_upload = StatsUpload(workspace=workspace, platform="google", file_name="report.csv")
        stats_upload.file.save("report", ContentFile(b"Day,Campaign,Clicks\n2026-03-01,Cuts,5\n"), save=False)
        stats_upload.headers, stats_upload.mapping = ["Day", "Campaign", "Clicks"], {"date": 0, "campaign": 1}
        stats_upload.save()
        return {
            "upload": stats_upload.pk,
            "campaign": campaign.pk,
            "ad": ad.pk,
            "cluster": cluster.pk,
            "keyword": keyword.pk,
            "negative": NegativeKeyword.objects.create(workspace=workspace, phrase="бесплатно").pk,
            "landmark": Landmark.objects.create(workspace=workspace, name="вокзал", language="ru").pk,
            "page": page.pk,
            "term": TrackedTerm.objects.create(workspace=workspace, kind="brand", phrase="Локон").pk,
            "source": Source.objects.create(workspace=workspace, channel=channel, kind="search").pk,
            "mention": mention.pk,
            "trend": trend.pk,
            "contest": contest.pk,
            "entrant": entrant.pk,
            "order": Order.objects.create(
                workspace=workspace, order_id="A-1", date=date(2026, 3, 14), service_name="Стрижка"
            ).pk,
            "job": job.pk,
            "segment": Segment.objects.create(workspace=workspace, name="Невесты").pk,
            "post": post.pk,
            "variant": variant.pk,
            "conversation": conversation.pk,
            "message": message.pk,
            "policy": SlaPolicy.objects.create(workspace=workspace, name="Default").pk,
            "rule": RoutingRule.objects.create(workspace=workspace, name="Complaints", words=["жалоба"]).pk,
            "reply": CannedReply.objects.create(workspace=workspace, title="Thanks", text="Спасибо!").pk,
            "handoff": HandOff.objects.create(
                conversation=conversation, department=department, reply_token=f"tok-{workspace.slug}"
            ).pk,
            "channel": channel.pk,
            "asset": asset.pk,
            "service": Service.objects.create(workspace=workspace, name="Women's haircut", price=1200).pk,
            "department": Department.objects.create(workspace=workspace, name="Quality").pk,
            "holiday": HolidayException.objects.create(workspace=workspace, date=date(2027, 1, 1)).pk,
            "membership": Membership.objects.filter(workspace=workspace).exclude(role="owner").first().pk
            if Membership.objects.filter(workspace=workspace).exclude(role="owner").exists()
            else Membership.objects.filter(workspace=workspace).first().pk,
            "invitation": Invitation.objects.create(
                workspace=workspace,
                email="new@example.com",
                role="agent",
                token_hash=workspace.slug * 2,
                expires_at=timezone.now() + timedelta(days=1),
            ).pk,
        }

    return objects_in(cast.workspace), objects_in(cast.other)


# Which object a route's <pk> names, by the route's namespace.
PK_KIND = {
    "channels": "channel",
    "accounts:member_role": "membership",
    "accounts:member_remove": "membership",
    "accounts:invitation_revoke": "invitation",
    "accounts:token_revoke": None,  # the user's own tokens: covered in accounts tests
}


def pk_kind(name):
    if name in PK_KIND:
        return PK_KIND[name]
    namespace, _, route = name.partition(":")
    if namespace in PK_KIND:
        return PK_KIND[namespace]
    for kind in ("service", "department", "holiday"):
        if route.startswith(kind):
            return kind
    raise AssertionError(f"{name}: tell tests/test_permissions.py which object its <pk> names")


# Route kwargs named after the object they name.
NAMED_IDS = (
    *("conversation", "message", "policy", "rule", "reply", "handoff", "post", "variant", "asset"),
    *("term", "source", "mention", "trend"),
    *("contest", "entrant"),
    *("order", "job", "segment"),
    *("cluster", "keyword", "negative", "landmark", "page"),
    *("campaign", "ad", "upload"),
)


MISSING_ID = 999_999


def id_kinds(route, name):
    """The kinds of object a route's integer parts name, in order."""
    kinds = [pk_kind(name)] if "<int:pk>" in route else []
    return kinds + [kind for kind in NAMED_IDS if f"<int:{kind}_id>" in route]


def build(route, name, slug, objects):
    url = "/" + route.replace("<slug:slug>", slug).replace("<str:kind>", "fake")
    if "<int:pk>" in url:
        url = url.replace("<int:pk>", str(objects[pk_kind(name)]))
    for kind in NAMED_IDS:
        url = url.replace(f"<int:{kind}_id>", str(objects[kind]))
    assert "<" not in url, f"tests/test_permissions.py cannot fill {route}"
    return url


def test_every_view_declares_its_access():
    missing = [name for _route, p, name in ROUTES if not hasattr(p.callback, "access")]
    assert not missing, f"views without an access declaration: {missing}"
    unknown = [
        name
        for _r, p, name in ROUTES
        if p.callback.access not in ("public", "user") and p.callback.access not in PERMISSIONS
    ]
    assert not unknown, unknown


WORKSPACE_ROUTES = [(r, p, n) for r, p, n in ROUTES if "<slug:slug>" in r and p.callback.access != "public"]
# A workspace's published site: anyone may read it, nobody may change it through these addresses.
PUBLIC_SITE_ROUTES = [(r, p, n) for r, p, n in ROUTES if "<slug:slug>" in r and p.callback.access == "public"]


@pytest.mark.parametrize(
    "route,pattern,name", PUBLIC_SITE_ROUTES, ids=[n for _r, _p, n in PUBLIC_SITE_ROUTES]
)
def test_public_workspace_routes_never_fail_or_write(cast, client, route, pattern, name):
    for slug in (cast.workspace.slug, "no-such-workspace"):
        url = "/" + route.replace("<slug:slug>", slug).replace("<slug:page>", "no-such-page")
        assert client.get(url).status_code in (200, 404), url
        assert client.post(url).status_code in (403, 404, 405), url


@pytest.mark.parametrize("role", ROLES + ["outsider", "anonymous"])
@pytest.mark.parametrize("route,pattern,name", WORKSPACE_ROUTES, ids=[n for _r, _p, n in WORKSPACE_ROUTES])
def test_workspace_route_checks_role(cast, client, route, pattern, name, role):
    mine, theirs = sample_objects(cast)
    url = build(route, name, cast.workspace.slug, mine)
    if role == "anonymous":
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], (name, method)
        return
    user = cast.outsider if role == "outsider" else cast.users[role]
    client.force_login(user)
    read, write = pattern.callback.access, getattr(pattern.callback, "write_access", pattern.callback.access)
    for method, permission in ((client.get, read), (client.post, write)):
        status = method(url).status_code
        assert status != 500, (name, role)
        if role == "outsider":
            assert status == 404, (name, method.__name__, status)
        elif allowed(role, permission):
            assert status not in (403, 404), (name, role, method.__name__, status)
        else:
            assert status == 403, (name, role, method.__name__, status)
    if "<int:" in route and role != "outsider":
        # Another workspace's object through this workspace's address (IDOR): a member whose role may
        # use the view gets exactly what a made-up id gets, 404 (or 405 for a method the view does not
        # accept, answered before any lookup), so not even the object's existence leaks; a role that
        # may not use the view gets 403 whatever the id. Each id of the address is tried on its own
        # too: this workspace's contest with another's entrant, this conversation with another's reply.
        missing = {kind: MISSING_ID for kind in mine}
        for method, permission in ((client.get, read), (client.post, write)):
            expected = method(build(route, name, cast.workspace.slug, missing)).status_code
            assert expected in ((404, 405) if allowed(role, permission) else (403,)), (name, role, expected)
            for kind in id_kinds(route, name):
                foreign = build(route, name, cast.workspace.slug, {**mine, kind: theirs[kind]})
                status = method(foreign).status_code
                assert status == expected, (name, role, method.__name__, kind, status, expected)


OTHER_ROUTES = [(r, p, n) for r, p, n in ROUTES if "<slug:slug>" not in r]


@pytest.mark.parametrize("route,pattern,name", OTHER_ROUTES, ids=[n for _r, _p, n in OTHER_ROUTES])
def test_account_routes(cast, client, route, pattern, name):
    url = "/" + route
    for placeholder, value in (
        ("<int:pk>", "999999"),
        ("<str:token>", "nope"),
        ("<uidb64>", "MQ"),
        ("<token>", "set-password"),
    ):
        url = url.replace(placeholder, value)
    anonymous = client.get(url).status_code
    assert anonymous != 500
    if pattern.callback.access == "user":
        assert anonymous == 302
    client.force_login(cast.users["viewer"])
    assert client.get(url).status_code != 500
    assert client.post(url).status_code != 500


def api_operations():
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, (prefix + path).replace("//", "/"), operation


API_OPS = list(api_operations())


def test_every_api_operation_declares_its_access():
    missing = [f"{m} {p}" for m, p, op in API_OPS if not hasattr(op.view_func, "access")]
    assert not missing, f"API operations without an access declaration: {missing}"


API_ID_KINDS = ("channel", "service", "department", "holiday", *NAMED_IDS)


def api_id_kinds(path):
    return [kind for kind in API_ID_KINDS if f"{{{kind}_id}}" in path]


def fill_api_path(path, slug, objects):
    path = path.replace("{slug}", slug)
    for kind in API_ID_KINDS:
        path = path.replace(f"{{{kind}_id}}", str(objects[kind]))
    assert "{" not in path, f"tests/test_permissions.py cannot fill {path}"
    return "/api" + path


WS_API_OPS = [(m, p, op) for m, p, op in API_OPS if "{slug}" in p]


@pytest.mark.parametrize("role", ROLES + ["outsider", "anonymous"])
@pytest.mark.parametrize("method,path,operation", WS_API_OPS, ids=[f"{m} {p}" for m, p, _ in WS_API_OPS])
def test_api_route_checks_role(cast, role, method, path, operation):
    from django.test import Client

    from smmdesk.accounts import actions

    mine, theirs = sample_objects(cast)
    headers = {}
    if role != "anonymous":
        user = cast.outsider if role == "outsider" else cast.users[role]
        _token, raw = actions.create_api_token(user, "test")
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    client = Client()
    url = fill_api_path(path, cast.workspace.slug, mine)
    response = client.generic(method, url, json.dumps({}), content_type="application/json", **headers)
    status = response.status_code
    assert status != 500, (method, path, role)
    if role == "anonymous":
        assert status == 401
    elif role == "outsider":
        assert status == 404
    elif allowed(role, operation.view_func.access):
        assert status not in (401, 403, 404), (method, path, role, status, response.content[:300])
    else:
        assert status == 403, (method, path, role, status)
    if role in ROLES and "{" in path.replace("{slug}", ""):
        # As for the pages: another workspace's id answers like a made-up one (404 when the role may use
        # the operation, 403 when it may not), one id at a time.
        def status_of(objects):
            url = fill_api_path(path, cast.workspace.slug, objects)
            return client.generic(
                method, url, json.dumps({}), content_type="application/json", **headers
            ).status_code

        expected = status_of({kind: MISSING_ID for kind in mine})
        assert expected == (404 if allowed(role, operation.view_func.access) else 403), (method, path, role)
        for kind in api_id_kinds(path):
            status = status_of({**mine, kind: theirs[kind]})
            assert status == expected, (method, path, role, kind, status, expected)


def test_admin_is_for_owning_superusers_only(cast, client):
    from django.conf import settings

    admin_url = "/" + settings.SMMDESK_ADMIN_PATH
    for role in ROLES:
        client.force_login(cast.users[role])
        assert client.get(admin_url).status_code == 302, role  # sent to the admin login
    owner = cast.users["owner"]
    owner.is_superuser = owner.is_staff = True
    owner.save()
    client.force_login(owner)
    assert client.get(admin_url).status_code == 200
    viewer = cast.users["viewer"]
    viewer.is_superuser = viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert client.get(admin_url).status_code == 302
