"""Demo inbox: an SLA policy, routing rules, canned replies and a few customer messages per workspace,
so the first run shows a working inbox. Idempotent: rows are found by name, messages by external id."""

from datetime import timedelta

from django.utils import timezone

from smmdesk.business.models import Department
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import CannedReply, Priority, RoutingRule, SlaPolicy

INBOX = {
    "demo-orenburg": {
        "rules": [
            (
                "Жалобы → Качество",
                ["жалоба", "ужасно", "испортить", "плохо", "вернуть деньги"],
                "Quality",
                Priority.HIGH,
            ),
            ("Записи → Ресепшн", ["записаться", "запись", "свободное время", "перенести"], "Reception", None),
        ],
        "canned": [
            (
                "Спасибо за отзыв",
                "ru",
                "{customer_name}, спасибо за отзыв! Будем рады видеть вас снова в «{business_name}».",
            ),
            (
                "Часы работы",
                "ru",
                "{customer_name}, мы работаем: {opening_hours}. Записаться можно здесь в сообщениях.",
            ),
            ("Opening hours", "en", "Hi {customer_name}, {business_name} is open {opening_hours}."),
        ],
        "messages": [
            (
                "vk",
                "comment",
                "vk-c-1",
                "id101",
                "Ольга Петрова",
                "post-77",
                "Вчера ужасно подстригли, мастер испортила чёлку. Хочу вернуть деньги!",
            ),
            ("vk", "comment", "vk-c-2", "id102", "Игорь", "post-77", "Поддерживаю, у меня тоже была жалоба."),
            (
                "telegram",
                "dm",
                "tg-1",
                "5001",
                "Анна",
                "",
                "Здравствуйте! Можно записаться на детскую стрижку в субботу?",
            ),
            ("telegram", "dm", "tg-2", "5002", "Mark", "", "Hi! Do you do wedding hairstyles? How much?"),
            (
                "vk",
                "mention",
                "vk-m-1",
                "id103",
                "Светлана",
                "",
                "Лучшая парикмахерская в Ленинском районе, спасибо мастеру Наталье! 😍",
            ),
        ],
    },
    "demo-bratislava": {
        "rules": [
            (
                "Sťažnosti → Kvalita",
                ["sťažnosť", "hrozný", "pokaziť", "vrátiť peniaze"],
                "Kvalita",
                Priority.HIGH,
            ),
            ("Rezervácie → Recepcia", ["rezervácia", "objednať", "termín", "voľný"], "Recepcia", None),
        ],
        "canned": [
            ("Ďakujeme", "sk", "{customer_name}, ďakujeme za recenziu! Tešíme sa na vás v {business_name}."),
            ("Otváracie hodiny", "sk", "{customer_name}, máme otvorené: {opening_hours}."),
        ],
        "messages": [
            (
                "vk",
                "comment",
                "pz-c-1",
                "id201",
                "Jana",
                "post-12",
                "Mám sťažnosť, strih bol hrozný a nikto sa neospravedlnil.",
            ),
            (
                "telegram",
                "dm",
                "pz-tg-1",
                "6001",
                "Peter",
                "",
                "Dobrý deň, dá sa objednať na pánsky strih zajtra?",
            ),
            (
                "telegram",
                "dm",
                "pz-tg-2",
                "6002",
                "Emma",
                "",
                "Hello, do you speak English? I need a haircut.",
            ),
        ],
    },
}


def load(workspace) -> None:
    spec = INBOX.get(workspace.slug)
    if spec is None:
        return
    SlaPolicy.objects.get_or_create(
        workspace=workspace,
        name="Default",
        defaults={
            "first_response_minutes": 10,
            "next_response_minutes": 30,
            "resolution_minutes": 24 * 60,
            "business_hours": True,
            "auto_acknowledge": True,
        },
    )
    for position, (name, words, department, priority) in enumerate(spec["rules"]):
        RoutingRule.objects.get_or_create(
            workspace=workspace,
            name=name,
            defaults={
                "position": position,
                "words": words,
                "set_priority": priority,
                "set_department": Department.objects.filter(workspace=workspace, name=department).first(),
            },
        )
    for title, language, text in spec["canned"]:
        CannedReply.objects.get_or_create(
            workspace=workspace, title=title, defaults={"language": language, "text": text}
        )
    channels = {
        c.typed_config().stands_for: c for c in Channel.objects.filter(workspace=workspace, kind="fake")
    }
    now = timezone.now()
    for index, (network, kind, external_id, author_id, author, thread, text) in enumerate(spec["messages"]):
        channel = channels.get(network)
        if channel is None:
            continue
        event = InboundEvent(
            external_id=external_id,
            kind=kind,
            author_id=author_id,
            author_name=author,
            text=text,
            created_at=now - timedelta(minutes=5 * (len(spec["messages"]) - index)),
            thread_id=thread,
        )
        ingest(channel, [event])
