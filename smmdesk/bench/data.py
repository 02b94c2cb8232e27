"""Realistic inbound traffic for the demo hairdresser in Orenburg: who writes, about what, in which
language, on which thread; deterministic for a given seed.

The mix follows what a small salon's VK group and Telegram account receive: mostly Russian, some
English from visitors, a little Slovak; bookings, prices, complaints, thanks; direct messages that
continue a chat, comments under a handful of posts (some answering another comment), mentions; and a
few events the network delivers twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEMO_SLUG = "demo-orenburg"

FIRST_NAMES_RU = [
    "Анна", "Мария", "Екатерина", "Ольга", "Наталья", "Ирина", "Светлана", "Татьяна", "Юлия", "Дарья",
    "Алексей", "Дмитрий", "Сергей", "Андрей", "Иван", "Максим", "Артём", "Никита", "Павел", "Олег",
]  # fmt: skip
LAST_NAMES_RU = [
    "Иванова", "Петрова", "Смирнова", "Кузнецова", "Попова", "Соколова", "Лебедева", "Козлова",
    "Новиков", "Морозов", "Волков", "Зайцев", "Павлов", "Семёнов", "Голубев", "Виноградов",
]  # fmt: skip
NAMES_EN = ["Emily Clark", "James Wilson", "Sophie Brown", "Daniel Lee", "Olivia Martin", "Tom Harris"]
NAMES_SK = ["Zuzana Kováčová", "Peter Horváth", "Jana Nováková", "Martin Tóth"]

MASTERS = ["Лена", "Оксана", "Марина", "Вика", "Кристина"]
SERVICES_RU = ["мужскую стрижку", "женскую стрижку", "детскую стрижку", "свадебную причёску", "окрашивание"]
SERVICES_EN = ["a men's haircut", "a women's haircut", "a kids' haircut", "a wedding hairstyle"]
DAYS_RU = ["сегодня", "завтра", "в субботу", "в пятницу", "на следующей неделе"]
DAYS_EN = ["today", "tomorrow", "on Saturday", "on Friday", "next week"]
TIMES = ["10:00", "11:30", "13:00", "15:00", "17:30", "18:00"]
DISTRICTS = ["Ленинском районе", "Центральном районе", "Оренбурге", "городе"]

TEMPLATES = {
    "ru": {
        "booking": [
            "Здравствуйте! Можно записаться на {service} {day} в {time}?",
            "Добрый день, есть свободное время {day}? Хочу на {service} к мастеру {master}",
            "Хочу перенести запись с {time} на {day}, можно?",
            "Отмените, пожалуйста, мою запись {day}, заболела 😷",
            "Запишите меня на {service}, удобно {day} после {time}",
        ],
        "question": [
            "Сколько стоит {service}?",
            "Вы работаете в воскресенье? До скольки открыты {day}?",
            "Где вы находитесь? Есть парковка рядом?",
            "А мастер {master} сейчас работает? Куда она перешла?",
            "Можно оплатить картой? И есть ли подарочные сертификаты?",
        ],
        "complaint": [
            "Ужасно подстригли, мастер {master} испортила чёлку 😡 Хочу вернуть деньги!",
            "Записалась на {time}, прождала 40 минут, никто не извинился. Безобразие",
            "Покрасили не в тот цвет, волосы сожжены. Буду писать жалобу",
            "Администратор нагрубила по телефону, больше не приду 👎",
            "Цена в прайсе одна, а взяли больше. Верните разницу",
        ],
        "praise": [
            "Спасибо {master}, лучшая стрижка в {district}! 😍",
            "Очень довольна, {master} — золотые руки! Приду ещё ❤️",
            "Сделали свадебную причёску, держалась весь день, спасибо огромное 🙏",
            "Быстро, аккуратно и недорого. Рекомендую всем 👍",
        ],
        "followup": [
            "Спасибо, жду подтверждения",
            "Хорошо, тогда {day} в {time}",
            "А можно чуть позже?",
            "Ок 👌",
            "Так что с моим вопросом?",
        ],
    },
    "en": {
        "booking": [
            "Hi! Can I book {service} {day} at {time}?",
            "Hello, do you have a free slot {day}? I'd like {service} with {master}",
            "I need to move my appointment from {time} to {day}, is that possible?",
        ],
        "question": [
            "How much is {service}?",
            "Are you open on Sunday? Do you speak English?",
            "Do you accept cards? Where exactly are you located?",
        ],
        "complaint": [
            "Waited 40 minutes past my {time} appointment. Not happy at all 😠",
            "The haircut is uneven and nobody answers my messages. I want a refund",
        ],
        "praise": [
            "Great haircut, thank you {master}! 👍",
            "Lovely salon, friendly staff, will come back ❤️",
        ],
        "followup": ["Thanks, waiting for confirmation", "OK, {day} at {time} then", "Any news?"],
    },
    "sk": {
        "booking": ["Dobrý deň, chcem sa objednať na strih {day_sk} o {time}."],
        "question": ["Koľko stojí dámsky strih? Hovoríte po slovensky alebo po anglicky?"],
        "complaint": ["Čakala som 40 minút, to je neprijateľné 😠"],
        "praise": ["Ďakujem, strih je super! 😍"],
        "followup": ["Ďakujem, čakám na potvrdenie", "Dobre, {day_sk} o {time}"],
    },
}  # fmt: skip
DAYS_SK = ["dnes", "zajtra", "v sobotu", "v piatok"]
TOPICS = [("booking", 0.36), ("question", 0.28), ("complaint", 0.14), ("praise", 0.22)]
LANGUAGES = [("ru", 0.82), ("en", 0.14), ("sk", 0.04)]
KINDS = [("dm", 0.55), ("comment", 0.35), ("mention", 0.10)]
# Of the messages, the share that continue a thread the same customer already has open.
CONTINUE_SHARE = 0.5
# Of the comments, the share that answer another comment under the same post.
REPLY_SHARE = 0.3
# Deliveries the network repeats (webhook retries, overlapping poll pages), on top of the N messages.
DUPLICATE_SHARE = 0.02


@dataclass
class Person:
    network_id: str
    name: str
    language: str
    chats: int = 0


@dataclass
class Traffic:
    """N messages as fake-network webhook items, per channel, in arrival order, plus redeliveries."""

    items: dict[str, list[dict]] = field(default_factory=dict)
    messages: int = 0
    duplicates: int = 0


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _person(rng: random.Random, index: int, prefix: str) -> Person:
    language = _pick(rng, LANGUAGES)
    if language == "ru":
        name = f"{rng.choice(FIRST_NAMES_RU)} {rng.choice(LAST_NAMES_RU)}"
    elif language == "en":
        name = rng.choice(NAMES_EN)
    else:
        name = rng.choice(NAMES_SK)
    return Person(network_id=f"{prefix}-user-{index}", name=name, language=language)


def text_for(rng: random.Random, language: str, topic: str) -> str:
    template = rng.choice(TEMPLATES[language][topic])
    return template.format(
        service=rng.choice(SERVICES_RU if language == "ru" else SERVICES_EN),
        day=rng.choice(DAYS_RU if language == "ru" else DAYS_EN),
        day_sk=rng.choice(DAYS_SK),
        time=rng.choice(TIMES),
        master=rng.choice(MASTERS),
        district=rng.choice(DISTRICTS),
    )


def generate(
    messages: int, channel_keys: list[str], *, seed: int = 3, start: datetime | None = None
) -> Traffic:
    """`messages` distinct inbound messages spread over the channels (keys name them in the items)."""
    rng = random.Random(seed)
    start = start or datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    traffic = Traffic(items={key: [] for key in channel_keys})
    people: dict[str, list[Person]] = {key: [] for key in channel_keys}
    posts: dict[str, list[list[str]]] = {key: [] for key in channel_keys}
    open_chats: dict[str, list[Person]] = {key: [] for key in channel_keys}
    # About four messages per customer and forty comments per post over the whole run.
    new_person_share = 0.25
    at = start
    for n in range(messages):
        key = channel_keys[n % len(channel_keys)] if len(channel_keys) > 1 else channel_keys[0]
        at += timedelta(seconds=rng.randint(1, 40))
        kind = _pick(rng, KINDS)
        item = {"id": f"{key}-m{n}", "kind": kind, "date": at.isoformat()}
        if kind == "dm" and open_chats[key] and rng.random() < CONTINUE_SHARE:
            person = rng.choice(open_chats[key])
            topic = "followup"
        else:
            if not people[key] or rng.random() < new_person_share:
                people[key].append(_person(rng, len(people[key]), key))
                person = people[key][-1]
            else:
                person = rng.choice(people[key])
            topic = _pick(rng, TOPICS)
        item["from"] = person.network_id
        item["name"] = person.name
        item["text"] = text_for(rng, person.language, topic)
        if kind == "dm":
            if person not in open_chats[key]:
                open_chats[key].append(person)
                if len(open_chats[key]) > 200:
                    open_chats[key].pop(0)
        elif kind == "comment":
            if not posts[key] or rng.random() < 1 / 40:
                posts[key].append([])
            # Most comments land under the latest few posts.
            post_index = len(posts[key]) - rng.randint(1, min(3, len(posts[key])))
            comments = posts[key][post_index]
            item["thread"] = f"{key}-post{post_index}"
            if comments and rng.random() < REPLY_SHARE:
                item["reply_to"] = rng.choice(comments)
            comments.append(item["id"])
        traffic.items[key].append(item)
        traffic.messages += 1
    for items in traffic.items.values():
        # A repeated delivery arrives a little after the original, as a webhook retry would.
        for index in sorted(rng.sample(range(len(items)), int(len(items) * DUPLICATE_SHARE)), reverse=True):
            position = min(len(items), index + rng.randint(1, 700))
            items.insert(position, dict(items[index]))
            traffic.duplicates += 1
    return traffic
