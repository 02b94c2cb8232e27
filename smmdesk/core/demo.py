"""Demo data: two hairdressers, one person per role, two fake channels each. Safe to run again."""

from datetime import date, time
from decimal import Decimal

from django.db import transaction

from smmdesk.accounts.models import Membership, User, Workspace
from smmdesk.accounts.roles import Role
from smmdesk.business.models import BusinessProfile, Department, HolidayException, OpeningHours, Service
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel

DEMO_PASSWORD = "smmdesk-demo"
AGENCY_EMAIL = "agency@smmdesk.example"

WORKSPACES = [
    {
        "slug": "demo-orenburg",
        "name": "Парикмахерская «Локон»",
        "profile": {
            "city": "Оренбург",
            "districts": ["Ленинский", "Центральный", "Дзержинский", "Промышленный"],
            "address": "Оренбург, Ленинский район, ул. Чкалова, 12",
            "phone": "+7 3532 00-00-00",
            "site_url": "https://lokon-orenburg.example",
            "languages": ["ru", "en"],
            "timezone": "Asia/Yekaterinburg",
            "currency": "RUB",
        },
        "hours": {
            0: ("09:00", "20:00"),
            1: ("09:00", "20:00"),
            2: ("09:00", "20:00"),
            3: ("09:00", "20:00"),
            4: ("09:00", "20:00"),
            5: ("10:00", "18:00"),
            6: ("10:00", "16:00"),
        },
        "holidays": [
            (date(2027, 1, 1), None, "Новый год"),
            (date(2026, 12, 31), ("10:00", "15:00"), "Канун"),
        ],
        "services": [
            ("Мужская стрижка", "600", 40, ["men's haircut", "стрижка мужская", "мужская причёска"]),
            ("Женская стрижка", "1200", 60, ["women's haircut", "стрижка женская", "дамская стрижка"]),
            ("Детская стрижка", "450", 30, ["children's haircut", "стрижка для ребёнка"]),
            (
                "Свадебная причёска",
                "3500",
                120,
                ["wedding hairstyle", "причёска на свадьбу", "укладка невесты"],
            ),
        ],
        "departments": [
            (
                "Reception",
                "Записи, переносы и отмены визитов. Bookings, rescheduling and cancellations.",
                "reception@lokon-orenburg.example",
                "agent",
            ),
            (
                "Quality",
                "Жалобы на стрижку и обслуживание, возвраты. Complaints about haircuts and service.",
                "quality@lokon-orenburg.example",
                "smm_manager",
            ),
            (
                "Management",
                "Сотрудничество, вакансии, всё остальное. Partnerships, jobs, everything else.",
                "boss@lokon-orenburg.example",
                "owner",
            ),
        ],
        "channels": [
            ("VK: Локон Оренбург", "vk-lokon-orenburg", "vk"),
            ("Telegram: @lokon_orenburg", "tg-lokon-orenburg", "telegram"),
        ],
    },
    {
        "slug": "demo-bratislava",
        "name": "Kaderníctvo Petržalka",
        "profile": {
            "city": "Bratislava",
            "districts": ["Petržalka", "Staré Mesto", "Ružinov", "Karlova Ves"],
            "address": "Bratislava-Petržalka, Romanova 1",
            "phone": "+421 2 0000 0000",
            "site_url": "https://kadernictvo-petrzalka.example",
            "languages": ["sk", "en"],
            "timezone": "Europe/Bratislava",
            "currency": "EUR",
        },
        "hours": {
            0: ("08:00", "19:00"),
            1: ("08:00", "19:00"),
            2: ("08:00", "19:00"),
            3: ("08:00", "19:00"),
            4: ("08:00", "19:00"),
            5: ("09:00", "14:00"),
        },
        "holidays": [(date(2026, 12, 24), None, "Štedrý deň"), (date(2026, 12, 25), None, "Vianoce")],
        "services": [
            ("Pánsky strih", "15", 30, ["men's haircut", "strih pre mužov"]),
            ("Dámsky strih", "30", 60, ["women's haircut", "strih pre ženy"]),
            ("Detský strih", "12", 30, ["children's haircut", "strih pre deti"]),
            ("Svadobný účes", "80", 120, ["wedding hairstyle", "účes na svadbu"]),
        ],
        "departments": [
            (
                "Recepcia",
                "Rezervácie a zmeny termínov. Bookings and rescheduling.",
                "recepcia@kadernictvo-petrzalka.example",
                "agent",
            ),
            (
                "Kvalita",
                "Sťažnosti a reklamácie. Complaints.",
                "kvalita@kadernictvo-petrzalka.example",
                "smm_manager",
            ),
            (
                "Vedenie",
                "Spolupráca a všetko ostatné. Partnerships and everything else.",
                "vedenie@kadernictvo-petrzalka.example",
                "owner",
            ),
        ],
        "channels": [
            ("VK: Petržalka", "vk-kadernictvo-petrzalka", "vk"),
            ("Telegram: @kadernictvo_pz", "tg-kadernictvo-petrzalka", "telegram"),
        ],
    },
]


def _user(email: str, name: str, superuser: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        make = User.objects.create_superuser if superuser else User.objects.create_user
        user = make(email, DEMO_PASSWORD, name=name)
    return user


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@transaction.atomic
def load_workspace(spec: dict) -> tuple[Workspace, dict[str, User]]:
    workspace, _ = Workspace.objects.get_or_create(slug=spec["slug"], defaults={"name": spec["name"]})
    BusinessProfile.objects.update_or_create(
        workspace=workspace, defaults={"name": spec["name"], **spec["profile"]}
    )
    users = {}
    for role in Role.values:
        email = f"{role.replace('_', '-')}@{spec['slug']}.example"
        # The Orenburg owner also runs the box, so the admin has someone to let in.
        user = _user(
            email,
            f"{Role(role).label} ({spec['profile']['city']})",
            superuser=role == Role.OWNER and spec["slug"] == "demo-orenburg",
        )
        Membership.objects.get_or_create(user=user, workspace=workspace, defaults={"role": role})
        users[role] = user
    agency = _user(AGENCY_EMAIL, "Agency SMM manager")
    Membership.objects.get_or_create(user=agency, workspace=workspace, defaults={"role": Role.SMM_MANAGER})
    if not workspace.opening_hours.exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(workspace=workspace, weekday=day, opens=_clock(a), closes=_clock(b))
            for day, (a, b) in spec["hours"].items()
        )
    for day, hours, note in spec["holidays"]:
        HolidayException.objects.get_or_create(
            workspace=workspace,
            date=day,
            defaults={
                "closed": hours is None,
                "note": note,
                "opens": _clock(hours[0]) if hours else None,
                "closes": _clock(hours[1]) if hours else None,
            },
        )
    for name, price, minutes, synonyms in spec["services"]:
        Service.objects.get_or_create(
            workspace=workspace,
            name=name,
            defaults={"price": Decimal(price), "duration_minutes": minutes, "synonyms": synonyms},
        )
    for name, description, email, member_role in spec["departments"]:
        department, created = Department.objects.get_or_create(
            workspace=workspace, name=name, defaults={"description": description, "notify_email": email}
        )
        if created:
            department.members.add(Membership.objects.get(workspace=workspace, user=users[member_role]))
    for name, account_id, stands_for in spec["channels"]:
        if not Channel.objects.filter(workspace=workspace, name=name).exists():
            channel = Channel(workspace=workspace, kind="fake", name=name)
            channel.store_config(
                FakeConfig(account_id=account_id, stands_for=stands_for, api_token=f"demo-token-{account_id}")
            )
            channel.save()
    return workspace, users


def load() -> list[str]:
    """Create or complete the demo; returns the lines to print (the logins)."""
    from smmdesk.ads import demo as demo_ads
    from smmdesk.audience import demo as demo_audience
    from smmdesk.audience import followers
    from smmdesk.channels import actions as channel_actions
    from smmdesk.contests import demo as demo_contests
    from smmdesk.core import demo_inbox
    from smmdesk.keywords import demo as demo_keywords
    from smmdesk.listening import demo as demo_listening

    lines = [f"Demo data loaded. Every demo user's password: {DEMO_PASSWORD}"]
    for spec in WORKSPACES:
        workspace, users = load_workspace(spec)
        for channel in Channel.objects.filter(workspace=workspace):
            channel_actions.check_channel(channel.pk)
        demo_inbox.load(workspace)
        demo_listening.load(workspace)
        demo_contests.load(workspace)
        demo_audience.load(workspace)
        followers.load_demo(workspace)
        demo_keywords.load(workspace)
        demo_ads.load(workspace)
        lines.append(f"  {workspace.name} (/w/{workspace.slug}/)")
        lines += [f"    {role:<16} {user.email}" for role, user in users.items()]
    lines.append(f"  both workspaces   {AGENCY_EMAIL} (smm_manager; shows the workspace switcher)")
    return lines
