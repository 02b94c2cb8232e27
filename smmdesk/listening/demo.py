"""Demo listening data for the Orenburg hairdresser: tracked terms, a network-search source on the demo's
fake VK channel, two weeks of mentions ending in a burst of #стрижкаоренбург in the last hour, the trend
that burst makes, and one complaint that reached the inbox.

Mentions go through the real intake (language, sentiment, flags, matching, clusters), so the demo shows
what the product would have found. Times are relative to the moment of loading, so the demo looks fresh
whenever it is loaded; ids are fixed, so loading it again adds nothing (intake stores an id once).
"""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta

from django.utils import timezone

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.listening import actions, alerts, intake, trends
from smmdesk.listening.models import Mention, Source, TrackedTerm

DAYS = 14
SEED = 7  # the same "random" fortnight every time

TERMS = [
    ("brand", "Локон", ["локон волос"]),
    ("brand", "Lokon", []),
    ("competitor", "Чародейка", ["фильм"]),
    ("product", "стрижка", []),
    ("product", "свадебная причёска", []),
    ("hashtag", "#стрижкаоренбург", []),
]

# Everyday mentions, spread over the fortnight, each its own post: (author, text).
EVERYDAY = [
    ("Марина К.", "Была сегодня в Локоне на Чкалова, мастер Наталья сделала отличную стрижку. Рекомендую!"),
    ("Дмитрий", "Кто знает, Локон работает в воскресенье? Хочу успеть до понедельника."),
    ("Елена", "В Чародейке опять очередь на час, в следующий раз пойду в другое место."),
    ("Oleg", "Got a quick haircut at Lokon in Orenburg, friendly staff and fair price."),
    ("Анастасия", "Подскажите, сколько стоит свадебная причёска в Локоне? Свадьба в июне."),
    ("Ирина В.", "Детская стрижка прошла без слёз, сын доволен 👍"),
    ("Светлана", "Спасибо Локону за свадебную причёску, держалась весь вечер!"),
    ("Павел", "Сравнивал цены: в Чародейке мужская стрижка дороже."),
    ("Ксения", "Записалась в Локон через сообщения группы, ответили за пять минут."),
    ("Anna", "Lokon did my wedding hairstyle, absolutely loved it."),
    ("Татьяна", "Первый раз в Локоне: результат хороший, но ждала минут пятнадцать."),
    ("Игорь", "Ленинский район, Локон — нормальная парикмахерская, без лишнего пафоса."),
    ("Галина", "Где в Оренбурге нормальная стрижка для пенсионеров недорого?"),
    ("Максим", "Чародейка открыла второй зал на Салмышской, видел вывеску."),
    ("Вероника", "Мастер в Локоне уговорила не делать чёлку и была права."),
    ("Mark", "Does anyone know a barber in Orenburg who speaks English? Lokon maybe?"),
    ("Людмила", "Внучке на выпускной делали причёску в Локоне, все фото удачные."),
    ("Андрей", "Мужская стрижка за 600 рублей и без записи, редкость сейчас."),
    ("Ева", "Кто делал окрашивание в Чародейке? Стоит оно того?"),
    ("Надежда", "Сегодня в Локоне было тихо, успела до работы."),
    ("Станислав", "Сыну понравилось, что в детском кресле можно смотреть мультики. Локон молодцы."),
    ("Алёна", "Репетиция свадебной причёски назначена на субботу, волнуюсь!"),
    ("Тимур", "Стригусь в Локоне у Натальи, теперь только к ней."),
    ("Sofia", "Lokon Orenburg: cosy place, good coffee while you wait."),
    ("Валентина", "В Локоне подарили скидку на следующий визит, приятно."),
    ("Глеб", "Опять оброс, пора на стрижку, кто куда ходит в Ленинском?"),
    ("Оксана", "Чародейка или Локон — где лучше стригут кудрявые волосы?"),
    ("Денис", "Бороду поправили аккуратно, спасибо Локону."),
]
# Mentions of the hashtag on ordinary days: rare, so its burst stands out.
HASHTAG_QUIET = [
    ("Юлия", "Осенний образ готов #стрижкаоренбург"),
    ("Роман", "Коротко и аккуратно #стрижкаоренбург"),
    ("Вера", "Освежила каре в Локоне #стрижкаоренбург"),
    ("Семён", "Полубокс как в армии, только лучше #стрижкаоренбург"),
]
# The burst: a flash mob of before/after photos with the hashtag, in the last hour.
BURST = [
    ("Алина", "Было/стало: решилась на каре! #стрижкаоренбург"),
    ("Мария", "Присоединяюсь к флешмобу до/после #стрижкаоренбург"),
    ("Никита", "Фейд за полчаса, теперь и я во флешмобе #стрижкаоренбург"),
    ("Ольга С.", "Мама и дочка, две новые причёски #стрижкаоренбург"),
    ("Egor", "Before and after, joining the flash mob #стрижкаоренбург"),
    ("Дарья", "Отрастила и отрезала двадцать сантиметров #стрижкаоренбург"),
    ("Сергей", "Борода и виски в порядке, спасибо мастеру #стрижкаоренбург"),
    ("Лиза", "Чёлка, которую я боялась сделать три года #стрижкаоренбург"),
    ("Артём", "Выпускной скоро, обновился заранее #стрижкаоренбург"),
    ("Полина", "Подруги позвали в челлендж, вот мой результат #стрижкаоренбург"),
    ("Кирилл", "Сын выбрал стрижку сам, вышло смело #стрижкаоренбург"),
    ("Яна", "Весенний кудрявый боб, участвую! #стрижкаоренбург"),
]
# The last everyday post is shared twice soon after: a cluster of three shown once, "+2 similar".
REPOSTS = ("Лена", "Виктория")
COMPLAINT = (
    "Ольга Петрова",
    "Ужасно подстригли в Локоне, мастер испортила чёлку и нагрубила. Больше не приду, верните деньги!",
)


def _event(key: str, author: str, text: str, when: datetime, rng: random.Random) -> InboundEvent:
    handle = f"id{zlib.crc32(author.encode()) % 900000 + 100000}" if not author.isascii() else author.lower()
    return InboundEvent(
        external_id=f"demo-listening-{key}",
        kind="mention",
        author_id=f"demo-author-{author}",
        author_name=author,
        author_handle=handle,
        author_url=f"https://vk.example/{handle}",
        text=text,
        created_at=when,
        raw={"url": f"https://vk.example/wall-{key}", "reach": rng.randint(40, 4000)},
    )


def fortnight(now: datetime) -> tuple[list[InboundEvent], InboundEvent]:
    """The demo's events, oldest first, and the complaint."""
    rng = random.Random(SEED)
    events = []
    start = now - timedelta(days=DAYS)
    for day in range(DAYS):
        # Two everyday mentions a day, at some hour of it.
        for slot in range(2):
            author, text = EVERYDAY[(day * 2 + slot) % len(EVERYDAY)]
            when = start + timedelta(
                days=day, hours=rng.randint(slot * 8, slot * 8 + 7), minutes=rng.randint(0, 59)
            )
            events.append(_event(f"d{day}-{slot}", author, text, when, rng))
            last_everyday = events[-1]
        if day % 4 == 1:
            author, text = HASHTAG_QUIET[(day // 4) % len(HASHTAG_QUIET)]
            when = start + timedelta(days=day, hours=rng.randint(5, 14))
            events.append(_event(f"h{day}", author, text, when, rng))
    original = last_everyday
    for n, who in enumerate(REPOSTS):
        when = min(original.created_at + timedelta(minutes=37 * (n + 1)), now - timedelta(minutes=50))
        events.append(_event(f"r{n}", who, f"RT @{original.author_handle}: {original.text}", when, rng))
    # The burst: every few minutes over the last three quarters of an hour.
    for n, (author, text) in enumerate(BURST):
        events.append(_event(f"b{n}", author, text, now - timedelta(minutes=2 + n * 4), rng))
    complaint = _event("complaint", *COMPLAINT, now - timedelta(hours=3), rng)
    events.sort(key=lambda event: event.created_at)
    return events, complaint


def _owner(workspace) -> Membership | None:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).select_related("workspace").first()


def _terms(owner: Membership) -> None:
    for kind, phrase, exclusions in TERMS:
        if not TrackedTerm.objects.filter(workspace=owner.workspace, phrase=phrase).exists():
            actions.create_term(
                owner, {"kind": kind, "phrase": phrase, "exclusions": exclusions, "languages": []}
            )


def _source(owner: Membership) -> Source | None:
    """A network search on the demo's fake VK channel."""
    workspace = owner.workspace
    channels = [
        c
        for c in Channel.objects.filter(workspace=workspace, kind="fake")
        if c.typed_config().stands_for == "vk"
    ]
    if not channels:
        return None
    found = Source.objects.filter(workspace=workspace, channel=channels[0]).first()
    if found is None:
        found = actions.create_source(owner, {"channel": channels[0].pk, "interval_minutes": 15})
    return found


def load(workspace) -> None:
    if workspace.slug != "demo-orenburg":
        return
    owner = _owner(workspace)
    if owner is None:
        return
    _terms(owner)
    source = _source(owner)
    if source is None:
        return
    now = timezone.now()
    events, complaint = fortnight(now)
    intake.take_in(source, events, now=now)
    stored = intake.take_in(source, [complaint], now=now)
    # The complaint goes where a fetched one would: an alert, the inbox and a notice to the managers.
    alerts.after_intake(stored.created, now=now)
    mention = Mention.objects.filter(workspace=workspace, external_id=complaint.external_id).first()
    if mention is not None and mention.conversation_id is None:
        actions.send_to_inbox(owner, mention)
    trends.detect(workspace.pk, now)
