"""A workspace with a profile, services, hours and keyword clusters made directly (K2's clustering is not
needed to test the pages)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.business.models import OpeningHours, Service
from smmdesk.keywords.models import Cluster, Intent, Keyword, Kind


def cluster(workspace, main: str, service=None, language="ru", informational=(), others=()):
    c = Cluster.objects.create(workspace=workspace, name=main, language=language, service=service, volume=100)
    keyword = Keyword.objects.create(
        workspace=workspace, query=main, normalized=main, language=language, kind=Kind.DIRECT,
        intent=Intent.COMMERCIAL, service=service, cluster=c, volume=90,
    )  # fmt: skip
    for q in others:
        Keyword.objects.create(workspace=workspace, query=q, normalized=q, language=language, kind=Kind.DIRECT,
                               intent=Intent.LOCAL, service=service, cluster=c, volume=5)  # fmt: skip
    for q in informational:
        Keyword.objects.create(workspace=workspace, query=q, normalized=q, language=language, kind=Kind.INDIRECT,
                               intent=Intent.INFORMATIONAL, service=service, cluster=c, volume=10)  # fmt: skip
    c.main = keyword
    c.save()
    return c


@pytest.fixture
def site(cast):
    ws = cast.workspace
    profile = ws.profile
    profile.name = "Парикмахерская «Локон»"
    profile.city = "Оренбург"
    profile.address = "Оренбург, ул. Чкалова, 12"
    profile.phone = "+7 3532 00-00-00"
    profile.save()
    for day in range(6):
        OpeningHours.objects.create(workspace=ws, weekday=day, opens=time(9), closes=time(20))
    women = Service.objects.create(
        workspace=ws, name="Женская стрижка", price=Decimal("1200"), duration_minutes=60
    )
    men = Service.objects.create(
        workspace=ws, name="Мужская стрижка", price=Decimal("700"), duration_minutes=40
    )
    c1 = cluster(ws, "женская стрижка в ленинском районе", women,
                 informational=["как ухаживать за волосами после стрижки", "идеи женских стрижек"],
                 others=["женская стрижка оренбург"])  # fmt: skip
    c2 = cluster(ws, "мужская стрижка оренбург", men)
    owner = Membership.objects.get(workspace=ws, user=cast.users["owner"])
    return {"workspace": ws, "owner": owner, "clusters": [c1, c2], "services": [women, men], "cast": cast}


def member(cast, role):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])
