import pytest

from smmdesk.accounts.models import Membership, User, Workspace
from smmdesk.accounts.roles import Role
from smmdesk.business.models import Department, Service
from smmdesk.channels.models import Channel
from smmdesk.core import demo


def counts():
    return [m.objects.count() for m in (Workspace, User, Membership, Service, Department, Channel)]


@pytest.mark.django_db
def test_demo_is_complete_and_idempotent():
    lines = demo.load()
    first = counts()
    demo.load()
    assert counts() == first
    for slug in ("demo-orenburg", "demo-bratislava"):
        workspace = Workspace.objects.get(slug=slug)
        roles = set(Membership.objects.filter(workspace=workspace).values_list("role", flat=True))
        assert roles == set(Role.values)
        channels = Channel.objects.filter(workspace=workspace)
        assert {c.typed_config().stands_for for c in channels} == {"vk", "telegram"}
        assert all(c.status == Channel.Status.OK for c in channels)
    orenburg = Workspace.objects.get(slug="demo-orenburg")
    assert orenburg.profile.languages == ["ru", "en"] and orenburg.profile.currency == "RUB"
    assert "Ленинский" in orenburg.profile.districts
    assert set(orenburg.departments.values_list("name", flat=True)) == {"Reception", "Quality", "Management"}
    assert orenburg.services.count() == 4
    assert Workspace.objects.get(slug="demo-bratislava").profile.languages == ["sk", "en"]
    owner = User.objects.get(email="owner@demo-orenburg.example")
    assert owner.check_password(demo.DEMO_PASSWORD) and owner.is_superuser
    assert any("owner@demo-orenburg.example" in line for line in lines)
    agency = User.objects.get(email=demo.AGENCY_EMAIL)
    assert agency.memberships.count() == 2


@pytest.mark.django_db
def test_demo_keeps_user_edits():
    demo.load()
    service = Service.objects.get(workspace__slug="demo-orenburg", name="Мужская стрижка")
    service.price = 700
    service.save()
    demo.load()
    service.refresh_from_db()
    assert service.price == 700


@pytest.mark.django_db
def test_demo_inbox_is_routed_and_idempotent():
    from smmdesk.inbox.models import Conversation, Message

    demo.load()
    first = (Conversation.objects.count(), Message.objects.count())
    demo.load()
    assert (Conversation.objects.count(), Message.objects.count()) == first
    complaint = Conversation.objects.get(workspace__slug="demo-orenburg", thread_key="post:post-77")
    # Two comments under one post are one conversation, routed by the Russian complaint rule. (Outside
    # the salon's hours the conversation also holds our automatic acknowledgement, so count inbound.)
    assert complaint.messages.filter(direction=Message.Direction.IN).count() == 2
    assert complaint.department.name == "Quality" and complaint.sentiment == "negative"
    booking = Conversation.objects.get(workspace__slug="demo-bratislava", thread_key="dm:6001")
    assert booking.department.name == "Recepcia" and booking.language == "sk"
