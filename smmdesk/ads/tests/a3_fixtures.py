"""Campaign-building fixtures: the sites tests' hairdresser with published landing pages, a segment and
a negative keyword (import with `from smmdesk.ads.tests.a3_fixtures import *`)."""

from __future__ import annotations

__all__ = ["built", "site", "member"]

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.audience.models import Segment
from smmdesk.keywords.models import NegativeKeyword
from smmdesk.sites import actions as site_actions
from smmdesk.sites.models import Page
from smmdesk.sites.tests.fixtures import site


@pytest.fixture
def built(site, settings):  # noqa: F811 - the imported fixture is the one extended here
    settings.SMMDESK_PUBLIC_URL = "https://smm.example"
    site_actions.build_pages(site["owner"])
    for page in Page.objects.filter(workspace=site["workspace"]):
        site_actions.set_published(site["owner"], page, True)
    segment = Segment.objects.create(
        workspace=site["workspace"], name="Women 25-44", gender="female", age_min=25, age_max=44,
        districts=["Ленинский"],
    )  # fmt: skip
    segment.services.add(site["services"][0])
    NegativeKeyword.objects.create(workspace=site["workspace"], phrase="бесплатно")
    return {**site, "segment": segment}


def member(cast, role="owner") -> Membership:
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])
