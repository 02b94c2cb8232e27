"""What the list's filter form costs: the live poll checks the filters every second for everyone with the
inbox open, so checking fixed values ("me", "mine", "none") reads no rows; showing the form lists them."""

import pytest

from smmdesk.accounts.models import Membership, User
from smmdesk.inbox.forms import FilterForm
from smmdesk.inbox.tests.test_views import make_channel

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]


@pytest.fixture
def team(cast):
    for i in range(30):
        user = User.objects.create_user(f"extra{i}@salon.example", "x-password-123", name=f"Extra {i:02d}")
        Membership.objects.create(user=user, workspace=cast.workspace, role="agent")
    make_channel(cast.workspace)
    return Membership.objects.get(workspace=cast.workspace, user=cast.users["agent"])


def test_fixed_values_are_checked_without_reading_rows(team, django_assert_num_queries):
    workspace = team.workspace
    with django_assert_num_queries(0):
        form = FilterForm(
            {"assignee": "me", "department": "mine", "status": "open", "risk": "breached"},
            workspace=workspace,
            membership=team,
        )
        assert form.is_valid(), form.errors
        filters = form.filters()
    assert (filters.assignee, filters.department, filters.status) == ("me", "mine", "open")


def test_values_naming_rows_are_still_checked_against_the_workspace(team, cast):
    colleague = Membership.objects.filter(workspace=team.workspace).exclude(pk=team.pk).first()
    outsider = Membership.objects.get(user=cast.outsider)
    channel = team.workspace.channels.first()
    good = FilterForm(
        {"assignee": str(colleague.pk), "channel": str(channel.pk)}, workspace=team.workspace, membership=team
    )
    assert good.is_valid(), good.errors
    assert good.filters().channel == channel.pk
    bad = FilterForm({"assignee": str(outsider.pk)}, workspace=team.workspace, membership=team)
    assert not bad.is_valid()
    assert "assignee" in bad.errors


def test_the_shown_form_lists_every_member_and_reads_them_once(team, django_assert_num_queries):
    form = FilterForm({"assignee": "me"}, workspace=team.workspace, membership=team)
    form.is_valid()
    with django_assert_num_queries(1):
        html = str(form["assignee"])
    assert html.count("<option") == 3 + Membership.objects.filter(workspace=team.workspace).count()
    assert "Extra 29" in html and '<option value="me" selected>' in html
