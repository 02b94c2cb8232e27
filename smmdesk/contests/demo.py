"""The demo's contests: the Orenburg hairdresser's autumn giveaway, finished, with its proof; and the people
on two of its VK posts on the fake network.

The fake network lives in each process's memory, so the server would not see entries that `smmdesk
demo` put there. Instead every process knows the demo posts' entries from this module:
ContestsConfig.ready() calls seed_fake_network(), and the demo load uses the same data. A contest on the
winter post ("giveaway-winter") can be run by hand in the demo, or by the browser test.

The finished contest is run through the real use cases; the demo only moves its times back to October,
when the story happened (a contest cannot be opened once its closing time has passed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from smmdesk.channels.base import Entry
from smmdesk.channels.fake.adapter import FakeNetwork

WORKSPACE = "demo-orenburg"
CHANNEL = "VK: Локон Оренбург"
ACCOUNT = "vk-lokon-orenburg"
AUTUMN_POST, WINTER_POST = "giveaway-autumn", "giveaway-winter"
AUTUMN_TITLE = "Осенний розыгрыш: стрижка в подарок"
# Asia/Yekaterinburg is UTC+5: 10:00 local on 1 October is 05:00 UTC.
AUTUMN_OPENS = datetime(2026, 10, 1, 5, 0, tzinfo=UTC)
AUTUMN_CLOSES = datetime(2026, 10, 15, 15, 0, tzinfo=UTC)
AUTUMN_PUBLIC_AT = datetime(2026, 10, 17, 16, 30, tzinfo=UTC)
AUTUMN_DRAWN_AT = datetime(2026, 10, 17, 16, 35, tzinfo=UTC)
AUTUMN_PUBLIC_VALUE = "04 11 17 26 38 42"
AUTUMN_SOURCE = "Лотерея «6 из 45», тираж 17.10.2026 (пример)"

NAMES = [
    "Ольга Петрова",
    "Игорь Смирнов",
    "Анна Кузнецова",
    "Мария Волкова",
    "Дмитрий Орлов",
    "Елена Соколова",
    "Сергей Лебедев",
    "Наталья Козлова",
    "Алексей Новиков",
    "Татьяна Морозова",
    "Павел Фёдоров",
    "Ирина Павлова",
    "Юлия Семёнова",
    "Андрей Егоров",
    "Светлана Никитина",
    "Кирилл Захаров",
    "Вероника Зайцева",
    "Роман Белов",
    "Ксения Медведева",
    "Михаил Тарасов",
    "Дарья Киселёва",
    "Артём Макаров",
    "Алина Андреева",
    "Виктор Ковалёв",
]
COMMENTS = [
    "Участвую! Очень хочу к вам на стрижку",
    "участвую, репост сделала",
    "Классный салон, участвую 🙂",
    "А можно двоих привести?",
    "Участвую!!!",
    "Хочу выиграть стрижку для сына, участвую",
]


def _people(start: datetime, count: int, offset: int) -> list[Entry]:
    """A deterministic crowd: each person's kinds and comment follow from their number."""
    found = []
    for n in range(count):
        number = offset + n
        kinds = {"like"}
        if number % 5 != 3:
            kinds.add("comment")
        if number % 3 != 1:
            kinds.add("repost")
        if number % 4 != 2:
            kinds.add("member")
        text = COMMENTS[number % len(COMMENTS)] if "comment" in kinds else ""
        found.append(
            Entry(
                author_id=f"id{1000 + number}",
                author_name=NAMES[number % len(NAMES)],
                kinds=frozenset(kinds),
                text=text,
                created_at=start + timedelta(hours=7 * n + number % 5),
            )
        )
    # The salon's own account answers under its post, and a stylist comments: neither may win.
    found.append(
        Entry(ACCOUNT, "Локон Оренбург", frozenset({"comment"}), "Спасибо всем!", start + timedelta(days=2))
    )
    found.append(Entry("id500", "Мастер Лена", frozenset({"comment", "repost", "member"}), "Участвую", start))
    return found


AUTUMN_ENTRIES_START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
WINTER_ENTRIES_START = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
ENTRIES = {
    AUTUMN_POST: _people(AUTUMN_ENTRIES_START, 24, 0),
    WINTER_POST: _people(WINTER_ENTRIES_START, 14, 7),
}


def seed_fake_network() -> None:
    """Put the demo posts' people on the fake network of this process (posts already there are kept)."""
    account = FakeNetwork.account(ACCOUNT)
    for post, people in ENTRIES.items():
        account.entries.setdefault(post, list(people))


def _proof_link(contest) -> str:
    from django.conf import settings
    from django.urls import reverse

    path = reverse("contest_proof", kwargs={"token": contest.proof_token})
    return f"{settings.SMMDESK_PUBLIC_URL.rstrip('/')}{path}" if settings.SMMDESK_PUBLIC_URL else path


def load(workspace) -> None:
    """The finished autumn contest, once."""
    from smmdesk.accounts.models import Membership
    from smmdesk.channels.models import Channel
    from smmdesk.contests import actions
    from smmdesk.contests.models import Contest, ContestEvent

    if (
        workspace.slug != WORKSPACE
        or Contest.objects.filter(workspace=workspace, title=AUTUMN_TITLE).exists()
    ):
        return
    channel = Channel.objects.filter(workspace=workspace, name=CHANNEL).first()
    manager = Membership.objects.filter(workspace=workspace, role="smm_manager").order_by("pk").first()
    if channel is None or manager is None:
        return
    seed_fake_network()
    with transaction.atomic():
        contest = actions.create_contest(
            manager,
            {
                "title": AUTUMN_TITLE,
                "channel": channel.pk,
                "post_external_id": AUTUMN_POST,
                "post_url": f"https://fake.invalid/{ACCOUNT}/{AUTUMN_POST}",
                "require_comment": True,
                "require_repost": True,
                "comment_pattern": "участвую",
                "opens_at": AUTUMN_OPENS,
                "closes_at": datetime.now(UTC) + timedelta(days=1),
                "winners_count": 2,
                "staff_accounts": [ACCOUNT, "id500"],
                "pseudonymisation": "initials",
            },
        )
        actions.open_contest(manager, contest)
        Contest.objects.filter(pk=contest.pk).update(closes_at=AUTUMN_CLOSES)
        contest.refresh_from_db()
        actions.close_contest(manager, contest, now=AUTUMN_CLOSES)
        actions.set_public_value(manager, contest, AUTUMN_PUBLIC_VALUE, AUTUMN_SOURCE)
        actions.draw_contest(manager, contest, _proof_link(contest))
        Contest.objects.filter(pk=contest.pk).update(
            created_at=AUTUMN_OPENS - timedelta(days=1),
            opened_at=AUTUMN_OPENS,
            closed_at=AUTUMN_CLOSES,
            collected_at=AUTUMN_CLOSES,
            public_value_at=AUTUMN_PUBLIC_AT,
            drawn_at=AUTUMN_DRAWN_AT,
        )
        moments = {
            "created": AUTUMN_OPENS - timedelta(days=1),
            "opened": AUTUMN_OPENS,
            "collected": AUTUMN_CLOSES,
            "closed": AUTUMN_CLOSES,
            "public_value": AUTUMN_PUBLIC_AT,
            "drawn": AUTUMN_DRAWN_AT,
            "announcement": AUTUMN_DRAWN_AT,
        }
        for action, moment in moments.items():
            ContestEvent.objects.filter(contest=contest, action=action).update(created_at=moment)
