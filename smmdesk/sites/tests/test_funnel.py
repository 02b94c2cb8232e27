"""Positions and visits imports (bad rows reported, good rows kept) and the funnel's numbers against a
fixture computed by hand."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from smmdesk.accounts.models import Membership
from smmdesk.audience.models import Order
from smmdesk.channels.models import Channel
from smmdesk.inbox.models import Conversation, Customer
from smmdesk.keywords.models import Cluster, Keyword
from smmdesk.sites import funnel
from smmdesk.sites.models import Page, PageVisits, Position

pytestmark = pytest.mark.django_db


def upload(text: str, encoding: str = "utf-8", name: str = "data.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def member(cast, role="owner"):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


def make_page(workspace, slug: str, main: str) -> Page:
    cluster = Cluster.objects.create(workspace=workspace, name=main, language="ru")
    keyword = Keyword.objects.create(
        workspace=workspace,
        query=main,
        normalized=" ".join(sorted(main.split())),
        language="ru",
        kind="direct",
        intent="local",
        cluster=cluster,
    )
    cluster.main = keyword
    cluster.save()
    return Page.objects.create(
        workspace=workspace,
        cluster=cluster,
        slug=slug,
        language="ru",
        title=main,
        description=main,
        h1=main,
        intro=main,
    )


@pytest.fixture
def pages(cast):
    return (
        make_page(cast.workspace, "zhenskaya-strizhka", "женская стрижка оренбург"),
        make_page(cast.workspace, "detskaya-strizhka", "детская стрижка оренбург"),
    )


def test_positions_import_keeps_good_rows_and_names_bad_ones(cast, pages):
    women, _children = pages
    text = (
        "Запрос;Дата;Позиция;Релевантная страница;Поисковая система\n"
        "женская стрижка оренбург;14.03.2026;3;https://example.com/site/salon/zhenskaya-strizhka/;Yandex\n"
        "детская стрижка оренбург;2026-03-14;>100;;google\n"
        "женская стрижка оренбург;вчера;4;;yandex\n"
        "мужская стрижка;2026-03-14;abc;;yandex\n"
        ";2026-03-14;5;;yandex\n"
        "стрижка;2026-03-14;7;ftp://example.com/x;yandex\n"
    )
    report = funnel.import_positions(member(cast), upload(text, "cp1251"))
    assert report["rows"] == 6 and report["imported"] == 2
    assert [(row, field) for row, field, _m in report["errors"]] == [
        (4, "date"),
        (5, "position"),
        (6, "query"),
        (7, "url"),
    ]
    first = Position.objects.get(workspace=cast.workspace, engine="yandex")
    assert (first.position, first.date, first.page) == (3, date(2026, 3, 14), women)
    assert first.keyword == women.cluster.main
    unranked = Position.objects.get(workspace=cast.workspace, engine="google")
    assert unranked.position is None
    assert unranked.page == pages[1]  # found through the keyword's cluster

    # The same query, engine and day again: updated, not duplicated.
    again = "query,date,position,engine\nженская стрижка оренбург,2026-03-14,2,yandex\n"
    funnel.import_positions(member(cast), upload(again))
    assert Position.objects.get(workspace=cast.workspace, engine="yandex").position == 2


def test_positions_file_without_required_columns_is_refused(cast, pages):
    with pytest.raises(funnel.FunnelError) as refused:
        funnel.import_positions(member(cast), upload("keyword,url\nстрижка,https://x.ru/\n"))
    assert refused.value.field == "file" and "date" in refused.value.message
    with pytest.raises(funnel.FunnelError):
        funnel.import_positions(member(cast), upload(""))
    assert not Position.objects.exists()


def test_utf16_positions_file(cast, pages):
    text = "Keyword\tDate\tPosition\nженская стрижка оренбург\t2026-03-01\t8\n"
    report = funnel.import_positions(member(cast), upload("\ufeff" + text, "utf-16-le"))
    assert report["imported"] == 1 and not report["errors"]


def test_import_needs_sites_manage(cast, pages):
    with pytest.raises(funnel.NotAllowed):
        funnel.import_visits(member(cast, "content_manager"), upload("date,page,visits\n"))


def test_visits_import(cast, pages):
    women, children = pages
    text = (
        "date,page,visits,chats,leads\n"
        "2026-03-01,https://example.com/site/salon/zhenskaya-strizhka/,120,6,3\n"
        "2026-03-01,detskaya-strizhka,40,,\n"
        "2026-03-02,/site/salon/nowhere/,10,0,0\n"
        "2026-03-02,zhenskaya-strizhka,many,0,0\n"
        "31.02.2026,zhenskaya-strizhka,5,0,0\n"
    )
    report = funnel.import_visits(member(cast), upload(text))
    assert report["imported"] == 2
    assert [(row, field) for row, field, _m in report["errors"]] == [(4, "page"), (5, "visits"), (6, "date")]
    day = PageVisits.objects.get(page=women, date=date(2026, 3, 1))
    assert (day.visits, day.chats, day.leads) == (120, 6, 3)
    assert PageVisits.objects.get(page=children).visits == 40
    funnel.import_visits(member(cast), upload("date,page,visits\n2026-03-01,zhenskaya-strizhka,125\n"))
    day.refresh_from_db()
    assert (day.visits, day.chats) == (125, 6)  # replaced; chats kept when the file has no such column


def test_funnel_numbers_by_hand(cast, pages):
    women, children = pages
    workspace = cast.workspace
    # Women's page, 1–31 March: visits 100 + 100 = 200 (a visit on 1 April is outside).
    for day, visits, chats, leads in ((1, 100, 4, 1), (15, 100, 6, 2)):
        PageVisits.objects.create(
            page=women, date=date(2026, 3, day), visits=visits, chats=chats, leads=leads
        )
    PageVisits.objects.create(page=women, date=date(2026, 4, 1), visits=999, chats=99, leads=99)
    # Two site chats tagged with the page's slug, one of them a lead (the customer left a phone); an
    # untagged one and a tagged VK conversation do not count.
    chat = Channel.objects.create(workspace=workspace, kind="webchat", name="Site chat")
    vk = Channel.objects.create(workspace=workspace, kind="fake", name="VK")
    at = timezone.make_aware(datetime(2026, 3, 10, 12))
    with_phone = Customer.objects.create(workspace=workspace, name="Anna", phone="+79001234567")
    for key, tags, channel, customer in (
        ("chat:v1", ["zhenskaya-strizhka"], chat, with_phone),
        ("chat:v2", ["zhenskaya-strizhka", "vip"], chat, None),
        ("chat:v3", [], chat, with_phone),
        ("chat:v4", ["zhenskaya-strizhka"], vk, with_phone),
    ):
        Conversation.objects.create(
            workspace=workspace,
            channel=channel,
            kind="chat",
            thread_key=key,
            tags=tags,
            customer=customer,
            created_at=at,
        )
    # Orders: two with the page's tag in March (any case), one in April, one of another campaign.
    for order_id, day, tag, price in (
        ("1", date(2026, 3, 5), "zhenskaya-strizhka", 1200),
        ("2", date(2026, 3, 20), "Zhenskaya-Strizhka", 1500),
        ("3", date(2026, 4, 2), "zhenskaya-strizhka", 1000),
        ("4", date(2026, 3, 6), "vk-spring", 900),
    ):
        Order.objects.create(
            workspace=workspace,
            order_id=order_id,
            date=day,
            service_name="Стрижка",
            utm_campaign=tag,
            price=price,
        )
    Position.objects.create(
        workspace=workspace,
        query="q",
        keyword=women.cluster.main,
        date=date(2026, 3, 1),
        engine="yandex",
        position=9,
    )
    Position.objects.create(
        workspace=workspace,
        query="q",
        keyword=women.cluster.main,
        date=date(2026, 3, 8),
        engine="yandex",
        position=5,
    )
    Position.objects.create(
        workspace=workspace,
        query="q",
        keyword=women.cluster.main,
        date=date(2026, 3, 8),
        engine="google",
        position=7,
    )

    rows = funnel.funnel(workspace, date(2026, 3, 1), date(2026, 3, 31))
    first = rows[0]
    assert first.page == women
    # visits 200; chats 4 + 6 imported + 2 tagged = 12; leads 1 + 2 + 1 = 4; orders 2 (1200 + 1500).
    assert (first.visits, first.chats, first.leads, first.orders) == (200, 12, 4, 2)
    assert first.revenue == Decimal("2700")
    assert first.chat_rate == 0.06  # 12 / 200
    assert first.lead_rate == 0.3333  # 4 / 12
    assert first.order_rate == 0.5  # 2 / 4
    assert first.conversion == 0.01  # 2 / 200
    assert first.position == 5  # the latest day, the best engine
    second = rows[1]
    assert (second.page, second.visits, second.orders, second.chat_rate, second.position) == (
        children,
        0,
        0,
        None,
        None,
    )
    total = funnel.totals(rows)
    assert (total.visits, total.chats, total.orders) == (200, 12, 2)


def test_funnel_page_and_imports_through_the_ui(cast, client, pages):
    PageVisits.objects.create(page=pages[0], date=date(2026, 3, 2), visits=50, chats=5, leads=1)
    client.force_login(cast.users["viewer"])
    url = f"/w/{cast.workspace.slug}/sites/funnel/"
    assert client.get(url).status_code == 403
    client.force_login(cast.users["content_manager"])
    response = client.get(url, {"start": "2026-03-01", "end": "2026-03-31"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="funnel-visits">50<' in body and "10.0 %" in body
    assert client.get(url, {"start": "2026-04-01", "end": "2026-03-01"}).status_code == 400
    assert client.get(url, {"start": "garbage"}).status_code == 400
    visits = f"/w/{cast.workspace.slug}/sites/funnel/visits/"
    assert client.post(visits, {"file": upload("date,page,visits\n")}).status_code == 403
    client.force_login(cast.users["smm_manager"])
    response = client.post(visits, {"file": upload("date,page,visits\n2026-03-03,detskaya-strizhka,x\n")})
    assert response.status_code == 200 and 'data-testid="funnel-error"' in response.content.decode()
    response = client.post(visits, {"file": upload("nothing,here\n1,2\n")})
    assert response.status_code == 400 and "No column for" in response.content.decode()
    positions = f"/w/{cast.workspace.slug}/sites/funnel/positions/"
    assert client.post(positions, {}).status_code == 400
    assert client.post(positions, {"file": upload("\xff\xfe\x00garbage", "latin-1")}).status_code == 400
