"""The demo ads: a targeting and a contextual campaign with a month of imported statistics; loading
again adds nothing."""

from __future__ import annotations

from datetime import timedelta

from smmdesk.ads import demo, effectiveness
from smmdesk.ads.models import Campaign, StatRow, StatsImport
from smmdesk.ads.tests.a3_fixtures import *  # noqa: F403
from smmdesk.audience.actions import business_today


def test_demo_builds_both_kinds_with_stats_and_is_idempotent(built, time_machine):
    time_machine.move_to("2026-11-20 12:00Z")
    workspace = built["workspace"]
    made = demo.load(workspace)
    assert sorted(c.kind for c in made) == ["contextual", "targeting"]
    contextual = next(c for c in made if c.kind == "contextual")
    assert contextual.platform == "yandex" and contextual.ad_groups.count() == 2
    for campaign in made:
        assert StatRow.objects.filter(campaign=campaign).count() == demo.DAYS
    imports, rows = StatsImport.objects.count(), StatRow.objects.count()
    assert [c.pk for c in demo.load(workspace)] == [c.pk for c in made]
    assert (Campaign.objects.count(), StatsImport.objects.count(), StatRow.objects.count()) == (
        2,
        imports,
        rows,
    )
    today = business_today(workspace)
    lines = effectiveness.report(workspace, today - timedelta(days=demo.DAYS), today)["campaigns"]
    by_id = {line["campaign"].pk: line for line in lines if line["campaign"]}
    assert all(by_id[c.pk]["clicks"] > 0 and by_id[c.pk]["ctr"] for c in made)


def test_demo_skips_a_workspace_without_segments_or_pages(cast):
    assert demo.load(cast.workspace) == []


def test_a_workspace_without_segments_gets_one_for_its_targeting_campaign(built, time_machine):
    from smmdesk.audience.models import Segment

    time_machine.move_to("2026-11-20 12:00Z")
    workspace = built["workspace"]
    Segment.objects.filter(workspace=workspace).delete()
    made = demo.load(workspace)
    targeting = next(c for c in made if c.kind == "targeting")
    segment = Segment.objects.get(workspace=workspace)
    assert targeting.segment_id == segment.pk
    assert (segment.gender, segment.age_min, segment.age_max, targeting.gender) == (
        "female",
        25,
        45,
        "female",
    )
    assert demo.load(workspace) and Segment.objects.filter(workspace=workspace).count() == 1
