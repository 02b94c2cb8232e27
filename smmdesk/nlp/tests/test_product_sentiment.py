"""The inbox's sentiment after ingestion: the worker's refinement, an agent's one-click correction, and
the workspace model the corrections train. Real models throughout; nothing here is mocked."""

import pytest

from smmdesk.inbox import actions as inbox_actions
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Message, TriageStage
from smmdesk.inbox.tests.conversations import event, make_channel, membership
from smmdesk.nlp import actions, refine, sentiment, store
from smmdesk.nlp.actions import NlpError
from smmdesk.nlp.models import SentimentCorrection, WorkspaceModel

pytestmark = [pytest.mark.dbqueue, pytest.mark.usefixtures("own_data_dir")]

# A team's own vocabulary: at this salon "the blue box" is the gift set customers are delighted with.
TEAM_PHRASES = [
    "Получила синюю коробку сегодня",
    "Синяя коробка пришла утром",
    "Мне принесли синюю коробку",
    "Забрала синюю коробку в салоне",
    "Синяя коробка у меня дома",
    "Вчера доставили синюю коробку",
]
PROBE = "Сегодня получила синюю коробку в салоне"


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def agent(cast):
    return membership(cast.users["agent"], cast.workspace)


def take_in(channel, *texts, prefix="m", thread=None):
    """Ingest one message per text (each its own conversation unless `thread` is given); their ids."""
    events = [
        event(f"{prefix}-{i}", author=f"cust-{prefix}-{i}", thread=thread or f"t-{prefix}-{i}", text=text)
        for i, text in enumerate(texts)
    ]
    return ingest(channel, events).created


def test_refinement_replaces_the_fast_pass_once(channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        [pk] = take_in(channel, "Спасибо большое, мастер просто чудо!")
    assert len(callbacks) == 1  # one refinement per committed batch
    message = Message.objects.get(pk=pk)
    assert message.triage_stage == TriageStage.FAST
    done = refine.refine([pk])
    message.refresh_from_db()
    assert done.messages == 1
    assert message.triage_stage == TriageStage.REFINED
    assert message.sentiment == "positive" and 0.5 < message.sentiment_score <= 1
    assert message.conversation.sentiment == "positive"
    before = list(Message.objects.values_list("pk", "sentiment", "sentiment_score", "triage_stage"))
    again = refine.refine([pk])
    assert again.messages == 0
    assert list(Message.objects.values_list("pk", "sentiment", "sentiment_score", "triage_stage")) == before


def test_refinement_works_in_batches(channel, monkeypatch):
    monkeypatch.setattr(refine, "BATCH", 2)
    ids = take_in(channel, "Спасибо!", "Ужасно", "Где заказ?", "Всё отлично", "Kedy máte otvorené?")
    assert refine.refine(ids).messages == 5
    assert set(Message.objects.filter(pk__in=ids).values_list("triage_stage", flat=True)) == {"refined"}


def test_refinement_never_overwrites_a_correction(channel, agent):
    [pk] = take_in(channel, "Ужасно, никогда больше не приду")
    message = Message.objects.get(pk=pk)
    actions.correct_sentiment(agent, message, "positive")
    refine.refine([pk])
    message.refresh_from_db()
    assert (message.sentiment, message.triage_stage) == ("positive", TriageStage.CORRECTED)
    assert Conversation.objects.get(pk=message.conversation_id).sentiment == "positive"


def test_a_correction_made_while_the_worker_predicts_is_kept(channel, agent):
    [pk] = take_in(channel, "Ужасно, никогда больше не приду")
    # The worker read the message at the fast pass; an agent corrects it before the worker writes.
    actions.correct_sentiment(agent, Message.objects.get(pk=pk), "positive")
    assert inbox_actions.set_sentiment({pk: ("negative", 0.9)}, TriageStage.REFINED) == []
    message = Message.objects.get(pk=pk)
    assert (message.sentiment, message.sentiment_score, message.triage_stage) == (
        "positive",
        1.0,
        "corrected",
    )


def test_the_conversation_follows_its_latest_customer_message(channel, agent):
    first, latest = take_in(channel, "Всё сломалось, верните деньги", "Спасибо, всё починили!", thread="one")
    older = Message.objects.get(pk=first)
    conversation = older.conversation
    actions.correct_sentiment(agent, Message.objects.get(pk=latest), "neutral")
    conversation.refresh_from_db()
    assert conversation.sentiment == "neutral"
    actions.correct_sentiment(agent, older, "positive")
    conversation.refresh_from_db()
    assert conversation.sentiment == "neutral"  # the older message does not set the mood


def test_corrections_retrain_the_workspace_model_and_change_the_next_prediction(
    cast, channel, agent, committed
):
    shipped_says = sentiment.shipped().predict([PROBE])[0].label
    target = "negative" if shipped_says == "positive" else "positive"
    ids = take_in(channel, *TEAM_PHRASES)
    with committed() as queued:
        for message in Message.objects.filter(pk__in=ids):
            actions.correct_sentiment(agent, message, target)
    assert len(queued) == len(TEAM_PHRASES)  # one retraining per click; all but the first find nothing new
    [version] = WorkspaceModel.objects.filter(workspace=cast.workspace, kind="sentiment")
    model = store.load(cast.workspace.pk, "sentiment")
    assert model is not None and model.version == version.version
    assert version.labels_seen == len(TEAM_PHRASES) and version.trained_on >= len(TEAM_PHRASES)
    # The next similar message is refined by the workspace's model: the team's label, not the shipped one.
    with committed():
        [pk] = take_in(channel, PROBE, prefix="probe")
    probe = Message.objects.get(pk=pk)
    assert probe.triage_stage == TriageStage.REFINED
    assert probe.sentiment == target
    # Unrelated messages keep what the shipped model says.
    with committed():
        [other] = take_in(channel, "Спасибо, мастер сделал отличную стрижку!", prefix="other")
    assert Message.objects.get(pk=other).sentiment == "positive"


def test_retraining_is_idempotent_and_claims_the_work(cast, channel, agent):
    ids = take_in(channel, *TEAM_PHRASES[:2])
    for message in Message.objects.filter(pk__in=ids):
        actions.correct_sentiment(agent, message, "negative")
    first = actions.retrain_sentiment(cast.workspace.pk)
    assert first is not None and first.version == 1
    assert actions.retrain_sentiment(cast.workspace.pk) is None  # the same labels: nothing to do
    assert WorkspaceModel.objects.filter(workspace=cast.workspace).count() == 1
    # A change of mind is new information.
    actions.correct_sentiment(agent, Message.objects.get(pk=ids[0]), "neutral")
    # While another run holds the claim, this one trains nothing.
    claim = WorkspaceModel.objects.create(workspace=cast.workspace, kind="sentiment", fingerprint="other")
    assert actions.retrain_sentiment(cast.workspace.pk) is None
    claim.delete()
    second = actions.retrain_sentiment(cast.workspace.pk)
    assert second.version == 2 and store.load(cast.workspace.pk, "sentiment").version == 2


def test_a_lost_model_file_is_trained_again(cast, channel, agent, settings, tmp_path):
    [pk] = take_in(channel, TEAM_PHRASES[0])
    actions.correct_sentiment(agent, Message.objects.get(pk=pk), "negative")
    assert actions.retrain_sentiment(cast.workspace.pk).version == 1
    settings.DATA_DIR = tmp_path / "restored"  # the database came back without the model files
    again = actions.retrain_sentiment(cast.workspace.pk)
    assert again is not None and again.version == 1
    assert WorkspaceModel.objects.filter(workspace=cast.workspace).count() == 1


def test_correction_refusals(cast, channel, agent):
    [pk] = take_in(channel, "Где мой заказ?")
    message = Message.objects.get(pk=pk)
    with pytest.raises(NlpError) as refused:
        actions.correct_sentiment(agent, message, "furious")
    assert refused.value.field == "label" and "negative, neutral, positive" in refused.value.message
    with pytest.raises(NlpError):
        actions.correct_sentiment(membership(cast.users["viewer"], cast.workspace), message, "negative")
    with pytest.raises(NlpError):
        actions.correct_sentiment(membership(cast.outsider, cast.other), message, "negative")
    assert not SentimentCorrection.objects.exists()
    assert Message.objects.get(pk=pk).triage_stage == TriageStage.FAST


def test_correct_in_the_conversation_page(cast, channel, client, agent):
    [pk] = take_in(channel, "Где мой заказ?")
    url = f"/w/{cast.workspace.slug}/inbox/m/{pk}/sentiment/"
    client.force_login(cast.users["agent"])
    page = client.get(f"/w/{cast.workspace.slug}/inbox/c/{Message.objects.get(pk=pk).conversation_id}/")
    assert (
        f'action="{url}"' in page.content.decode()
        and 'data-testid="sentiment-negative"' in page.content.decode()
    )
    response = client.post(url, {"label": "negative"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-stage="corrected"' in response.content.decode()
    assert 'aria-pressed="true" data-testid="sentiment-negative"' in response.content.decode()
    assert SentimentCorrection.objects.get(message_id=pk).corrected_by == agent
    # Without htmx: back to the message in its conversation.
    response = client.post(url, {"label": "neutral"})
    assert response.status_code == 302 and response["Location"].endswith(f"#message-{pk}")
    bad = client.post(url, {"label": "<b>angry</b>"})
    assert bad.status_code == 400 and "negative, neutral, positive" in bad.content.decode()
    assert Message.objects.get(pk=pk).sentiment == "neutral"


def test_correction_access(cast, channel, client):
    [pk] = take_in(channel, "Где мой заказ?")
    url = f"/w/{cast.workspace.slug}/inbox/m/{pk}/sentiment/"
    client.force_login(cast.users["viewer"])
    page = client.get(f"/w/{cast.workspace.slug}/inbox/c/{Message.objects.get(pk=pk).conversation_id}/")
    assert page.status_code == 200 and 'data-testid="sentiment-form"' not in page.content.decode()
    assert client.post(url, {"label": "negative"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"label": "negative"}).status_code == 404
    # Another workspace's message through this workspace's address is not found either.
    theirs = make_channel(cast.other, account_id="rival-vk")
    [foreign] = take_in(theirs, "Чужое сообщение", prefix="x")
    client.force_login(cast.users["agent"])
    assert (
        client.post(
            f"/w/{cast.workspace.slug}/inbox/m/{foreign}/sentiment/", {"label": "negative"}
        ).status_code
        == 404
    )
    assert not SentimentCorrection.objects.exists()
