"""Routing that learns the workspace: hand-offs and resolutions become labels, the router retrains, and
the inbox shows why a department was chosen. Real models throughout; nothing here is mocked."""

import pytest

from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox import routing
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Message, RoutingRule, Status, TimelineEvent
from smmdesk.inbox.tests.conversations import event, make_channel, make_department, membership
from smmdesk.nlp import actions, refine, store
from smmdesk.nlp.models import RoutingLabel, WorkspaceModel

pytestmark = [pytest.mark.dbqueue, pytest.mark.usefixtures("own_data_dir")]

BILLING = [
    "I was charged twice for my haircut, please refund the money",
    "Refund the payment, the card was charged but the visit was cancelled",
    "Where is my refund? You took the money from my card twice",
    "The invoice is wrong, I paid 1500 but was charged 3000",
]
SALON = [
    "Can I book a haircut with Anna on Saturday morning?",
    "I'd like an appointment for colouring next Tuesday",
    "Is there a free slot for a manicure tomorrow afternoon?",
    "Please move my appointment to Friday at 5 pm",
]
NEW_BILLING = "You charged my card twice, I want the money back"


@pytest.fixture
def member(cast):
    return lambda role: membership(cast.users[role], cast.workspace)


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def departments(cast, member):
    billing = make_department(cast.workspace, "Billing", members=[member("agent"), member("smm_manager")])
    billing.description = "Payments, refunds, invoices and charges on a customer's card."
    billing.save()
    salon = make_department(cast.workspace, "Salon", members=[member("agent")])
    salon.description = "Appointments: booking, moving or cancelling a visit to the salon."
    salon.save()
    return billing, salon


def start(channel, text: str, key: str) -> Conversation:
    ingest(channel, [event(f"in-{key}", author=f"cust-{key}", thread=f"t-{key}", text=text)])
    return Message.objects.get(channel=channel, external_id=f"in-{key}").conversation


def teach(channel, departments, manager):
    """Hand-offs of earlier conversations: four to each department. Returns the billing ones."""
    billing, salon = departments
    taught = []
    for i, text in enumerate(BILLING):
        conversation = start(channel, text, f"b{i}")
        inbox_actions.hand_off(conversation, billing.pk, "", manager)
        taught.append(conversation)
    for i, text in enumerate(SALON):
        inbox_actions.hand_off(start(channel, text, f"s{i}"), salon.pk, "", manager)
    return taught


def test_hand_offs_teach_the_router(cast, channel, departments, member, client, committed):
    billing, salon = departments
    with committed():
        taught = teach(channel, departments, member("smm_manager"))
    labels = RoutingLabel.objects.filter(workspace=cast.workspace)
    assert labels.count() == 8 and set(labels.values_list("source", flat=True)) == {"handoff"}
    assert labels.get(conversation=taught[0]).text == BILLING[0]
    model = store.load(cast.workspace.pk, "router")
    latest = (
        WorkspaceModel.objects.filter(workspace=cast.workspace, kind="router").order_by("-version").first()
    )
    assert model is not None and model.version == latest.version and latest.labels_seen == 8
    # A new conversation like the billing ones goes to Billing, assigned in turn, with the reason.
    with committed():
        conversation = start(channel, NEW_BILLING, "new")
    conversation.refresh_from_db()
    assert conversation.department == billing
    assert conversation.assignee in (member("agent"), member("smm_manager"))
    why = conversation.routing_explanation
    assert why["source"] == "model" and why["applied"] is True and why["confidence"] >= refine.MIN_CONFIDENCE
    similar = [row["conversation"] for row in why["similar"]]
    assert similar and similar[0] in {c.pk for c in taught}
    routed = TimelineEvent.objects.filter(conversation=conversation, kind=TimelineEvent.Kind.ROUTED)
    assert [e.detail.get("router", "round_robin" if e.detail.get("round_robin") else "") for e in routed] == [
        "learned",
        "round_robin",
    ]
    # The inbox says why, and links the similar conversations.
    client.force_login(cast.users["agent"])
    html = client.get(f"/w/{cast.workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-testid="routing-reason" data-kind="model"' in html
    assert f"Learned router, {round(why['confidence'] * 100)} %" in html
    assert f'href="/w/{cast.workspace.slug}/inbox/c/{similar[0]}/"' in html
    first_words = Message.objects.filter(conversation_id=similar[0]).first().text[:30]
    assert first_words in html
    listing = client.get(f"/w/{cast.workspace.slug}/inbox/").content.decode()
    assert f"Learned, {round(why['confidence'] * 100)} %" in listing


def test_a_resolution_is_a_label_and_a_hand_off_wins_over_it(cast, channel, departments, member):
    billing, salon = departments
    rule = RoutingRule.objects.create(
        workspace=cast.workspace, name="Bookings", words=["appointment"], set_department=salon
    )
    booked = start(channel, "I need an appointment for a haircut", "r1")
    assert booked.department == salon
    assert booked.routing_explanation == {
        "source": "rule",
        "rule": "Bookings",
        "rule_id": rule.pk,
        "department": salon.pk,
    }
    manager = member("smm_manager")
    inbox_actions.set_status(booked, Status.RESOLVED, manager)
    label = RoutingLabel.objects.get(conversation=booked)
    assert (label.department, label.source) == (salon, "resolution")
    refund = start(channel, "Refund my money please", "r2")
    inbox_actions.hand_off(refund, billing.pk, "", manager)
    inbox_actions.set_status(refund, Status.RESOLVED, manager)
    label = RoutingLabel.objects.get(conversation=refund)
    assert (label.department, label.source) == (billing, "handoff")
    # Without a department a resolution teaches nothing.
    plain = start(channel, "Hello", "r3")
    inbox_actions.set_status(plain, Status.RESOLVED, manager)
    assert not RoutingLabel.objects.filter(conversation=plain).exists()


def test_router_retraining_waits_for_two_departments_and_is_idempotent(cast, channel, departments, member):
    billing, salon = departments
    manager = member("smm_manager")
    inbox_actions.hand_off(start(channel, BILLING[0], "a"), billing.pk, "", manager)
    assert actions.retrain_router(cast.workspace.pk) is None  # one department teaches nothing
    inbox_actions.hand_off(start(channel, SALON[0], "b"), salon.pk, "", manager)
    first = actions.retrain_router(cast.workspace.pk)
    assert first is not None and first.version == 1 and first.labels_seen == 2
    assert actions.retrain_router(cast.workspace.pk) is None
    assert WorkspaceModel.objects.filter(workspace=cast.workspace, kind="router").count() == 1


def test_routing_runs_once(cast, channel, departments, member, django_capture_on_commit_callbacks):
    teach(channel, departments, member("smm_manager"))
    actions.retrain_router(cast.workspace.pk)
    conversation = start(channel, NEW_BILLING, "once")
    ids = list(conversation.messages.values_list("pk", flat=True))
    first = refine.refine(ids)
    assert first.routed == 1
    conversation.refresh_from_db()
    state = (conversation.department_id, conversation.assignee_id, conversation.routing_explanation)
    events = TimelineEvent.objects.filter(conversation=conversation).count()
    second = refine.refine(ids)
    assert (second.messages, second.routed, second.suggested) == (0, 0, 0)
    conversation.refresh_from_db()
    assert (conversation.department_id, conversation.assignee_id, conversation.routing_explanation) == state
    assert TimelineEvent.objects.filter(conversation=conversation).count() == events


def test_the_learned_route_is_claimed_once(cast, channel, departments, member):
    billing, salon = departments
    conversation = start(channel, NEW_BILLING, "claim")
    why = {"source": "model", "department": billing.pk, "confidence": 0.9, "similar": []}
    assert routing.apply_learned(conversation.pk, billing.pk, why, apply=True)
    # A second run, even one that would say something else, changes nothing.
    assert not routing.apply_learned(conversation.pk, salon.pk, {**why, "department": salon.pk}, apply=True)
    conversation.refresh_from_db()
    assert conversation.department == billing and conversation.routing_explanation["department"] == billing.pk
    # A suggestion below the bar leaves the conversation unrouted, and is recorded once too.
    unsure = start(channel, "Hello there", "claim-unsure")
    low = {**why, "confidence": 0.3}
    assert routing.apply_learned(unsure.pk, billing.pk, low, apply=False)
    assert not routing.apply_learned(unsure.pk, salon.pk, {**low, "department": salon.pk}, apply=True)
    unsure.refresh_from_db()
    assert unsure.department is None and unsure.routing_explanation == {**low, "applied": False}
    # A person's hand-off before the worker got there wins too.
    other = start(channel, NEW_BILLING, "claim-2")
    inbox_actions.hand_off(other, salon.pk, "", member("smm_manager"))
    assert not routing.apply_learned(other.pk, billing.pk, why, apply=True)
    other.refresh_from_db()
    assert other.department == salon and other.routing_explanation == {}


def test_cold_start_compares_with_department_descriptions(cast, channel, departments, client):
    billing, salon = departments
    conversation = start(channel, "Please refund the payment, my card was charged", "cold")
    refine.refine(list(conversation.messages.values_list("pk", flat=True)))
    conversation.refresh_from_db()
    why = conversation.routing_explanation
    assert why["source"] == "cold-start"
    assert why["department"] == billing.pk  # the suggestion, applied or not
    client.force_login(cast.users["agent"])
    html = client.get(f"/w/{cast.workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-kind="cold-start"' in html and "Cold start: matched the department description" in html
    assert why["applied"] is (why["confidence"] >= refine.MIN_CONFIDENCE)
    if why["applied"]:
        assert conversation.department == billing
    else:
        # Below the bar only the suggestion is shown; nobody's queue changed.
        assert conversation.department is None and "Suggested department" in html


def test_cold_start_needs_two_described_departments(cast, channel, departments):
    _billing, salon = departments
    salon.description = ""
    salon.save()
    conversation = start(channel, "Please refund the payment, my card was charged", "lone")
    assert refine.refine(list(conversation.messages.values_list("pk", flat=True))).routed == 0
    conversation.refresh_from_db()
    assert conversation.department is None and conversation.routing_explanation == {}


def test_a_new_message_in_an_old_conversation_is_not_routed(cast, channel, departments):
    # Its first message was never refined (the queue lost that task): the next one does not route it.
    conversation = start(channel, "Hello", "old")
    ingest(channel, [event("in-old-2", author="cust-old", thread="t-old", text="Refund my card payment")])
    later = Message.objects.get(external_id="in-old-2")
    refine.refine([later.pk])
    conversation.refresh_from_db()
    assert conversation.routing_explanation == {} and conversation.department is None


def test_explanations_are_escaped_and_stay_in_the_workspace(cast, channel, departments, client):
    billing, _salon = departments
    hostile = start(channel, '<script>alert("x")</script> refund', "evil")
    theirs = start(make_channel(cast.other, account_id="rival-vk"), "Their secret conversation", "theirs")
    conversation = start(channel, "Refund please", "shown")
    Conversation.objects.filter(pk=conversation.pk).update(
        department=billing,
        routing_explanation={
            "source": "model",
            "department": billing.pk,
            "applied": True,
            "confidence": 0.84,
            "similar": [
                {"conversation": hostile.pk, "snippet": '<script>alert("x")</script> refund'},
                {"conversation": theirs.pk, "snippet": "Their secret conversation"},
            ],
        },
    )
    client.force_login(cast.users["agent"])
    html = client.get(f"/w/{cast.workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert "Learned router, 84 %" in html
    assert '<script>alert("x")</script>' not in html and "&lt;script&gt;" in html
    assert "Their secret conversation" not in html and f"/c/{theirs.pk}/" not in html


def test_rule_reason_in_the_inbox(cast, channel, departments, client):
    _billing, salon = departments
    RoutingRule.objects.create(
        workspace=cast.workspace, name="Bookings", words=["appointment"], set_department=salon
    )
    conversation = start(channel, "I need an appointment", "rule")
    client.force_login(cast.users["viewer"])
    html = client.get(f"/w/{cast.workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-kind="rule"' in html and "Rule: Bookings" in html
    assert "Rule: Bookings" in client.get(f"/w/{cast.workspace.slug}/inbox/").content.decode()


def test_models_page(cast, channel, departments, member, client, committed):
    url = f"/w/{cast.workspace.slug}/settings/models/"
    client.force_login(cast.users["agent"])
    assert client.get(url).status_code == 403
    assert client.post(url + "retrain/", {"kind": "router"}).status_code == 403
    client.force_login(cast.users["smm_manager"])
    html = client.get(url).content.decode()
    assert "the shipped model" in html and "cold start: department descriptions" in html
    assert "Needs labels for at least two departments." in html
    with committed():
        teach(channel, departments, member("smm_manager"))
    html = client.get(url).content.decode()
    version = WorkspaceModel.objects.get(workspace=cast.workspace, kind="router", version__isnull=False)
    assert f"v{version.version}" in html and "8 routing labels" in html and "Up to date." in html
    assert client.post(url + "retrain/", {"kind": "nonsense"}).status_code == 400
    with committed() as queued:
        response = client.post(url + "retrain/", {"kind": "router"})
    assert len(queued) == 1
    assert response.status_code == 302 and response["Location"] == url
    # Nothing changed since the last version, so the queued retraining made none.
    assert WorkspaceModel.objects.filter(workspace=cast.workspace, kind="router").count() == 1
