"""Puts the XSS corpus (tests/corpus/xss/) into a workspace of its own in the served product's database, for
tests/browser/test_xss.py. Run against the server's data dir:

    python -m tests.browser.xss_seed <site chat origin>

The hostile text goes where customers (or networks) write: inbox messages, author names, profile links and
attachments (through the real ingestion), listening mentions and trend cards, a drawn contest's entrants
(collected from the fake network, so the proof page lists them), a published landing page's copy and FAQ,
and the site chat's title and greeting. Link fields get the corpus's link targets. Stored values that the
product's own input checks would refuse (a contest post address that is not https) are written straight
to the database afterwards: what is shown must be safe whatever is stored.

Prints one JSON line: what the test needs to find it all.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "xss"
WORKSPACE = "xss-lab"
OWNER = f"owner@{WORKSPACE}.example"
ACCOUNT = "xss-lab-account"
POST = "xss-post"


def corpus(name: str) -> list[str]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ")]


def seed(chat_origin: str) -> dict:
    from django.utils import timezone

    from smmdesk.accounts import actions as accounts
    from smmdesk.accounts.models import Membership
    from smmdesk.business.models import BusinessProfile
    from smmdesk.channels import actions as channels
    from smmdesk.channels.base import Entry, InboundEvent
    from smmdesk.channels.fake.adapter import FakeNetwork
    from smmdesk.contests import actions as contests
    from smmdesk.contests.models import Contest
    from smmdesk.core.demo import DEMO_PASSWORD
    from smmdesk.inbox.ingest import ingest
    from smmdesk.listening.models import Mention, Trend
    from smmdesk.sites.models import Page

    payloads, links = corpus("payloads.txt"), corpus("urls.txt")
    now = timezone.now()
    owner = accounts.create_user(OWNER, DEMO_PASSWORD, name=payloads[1][:150])
    workspace = accounts.create_workspace(owner, "XSS lab", slug=WORKSPACE, city="Orenburg")
    BusinessProfile.objects.filter(workspace=workspace).update(
        name=payloads[4][:150], address=payloads[1][:255], phone="+7 3532 00-00-00", languages=["ru", "en"]
    )
    membership = Membership.objects.get(workspace=workspace, user=owner)
    network = channels.create_channel(
        workspace, "fake", "Fake network", {"account_id": ACCOUNT, "api_token": "token-xss-lab"}
    )

    # The inbox: one conversation per payload, through the ingestion every network's messages take.
    events = [
        InboundEvent(
            external_id=f"xss-{n}",
            kind="dm" if n % 2 else "comment",
            author_id=f"author-{n}",
            author_name=text[:200],
            author_handle=text[:100],
            author_url=links[n % len(links)],
            text=f"{text}\n{text}",
            created_at=now - timedelta(minutes=n),
            thread_id=f"thread-{n}",
            attachments=[{"type": "file", "name": text[:200], "url": links[n % len(links)]}],
        )
        for n, text in enumerate(payloads)
    ]
    ingest(network, events, now=now)

    # Listening: a mention per payload, and trend cards whose keys and examples are payloads.
    mentions = [
        Mention.objects.create(
            workspace=workspace,
            channel=network,
            external_id=f"xss-m-{n}",
            url=links[n % len(links)],
            author_name=text[:200],
            author_handle=text[:200],
            author_url=links[(n + 1) % len(links)],
            text=text,
            published_at=now - timedelta(minutes=n),
            hashtags=[text[:60]],
            phrases=[text[:60]],
        )
        for n, text in enumerate(payloads)
    ]
    for n, text in enumerate(payloads[:12]):
        trend = Trend.objects.create(
            workspace=workspace,
            kind="hashtag",
            key=text[:200],
            score=10.0 - n / 10,
            started_at=now - timedelta(hours=2),
            counts=[1, 2, 3, 9],
        )
        trend.examples.add(*mentions[n : n + 3])

    # A contest whose every entrant wins, so the public proof page lists every hostile name.
    FakeNetwork.account(ACCOUNT).entries[POST] = [
        Entry(f"id{n}", text[:200], frozenset({"comment"}), text, now - timedelta(hours=1))
        for n, text in enumerate(payloads)
    ]
    contest = contests.create_contest(
        membership,
        {
            "title": payloads[0][:200],
            "channel": network.pk,
            "post_external_id": POST,
            "post_url": "https://example.com/xss-post",
            "require_comment": True,
            "opens_at": now - timedelta(days=1),
            "closes_at": now + timedelta(days=1),
            "winners_count": len(payloads),
            "pseudonymisation": "full",
        },
    )
    contests.open_contest(membership, contest)
    contests.close_contest(membership, contest)
    contest.refresh_from_db()
    contests.set_public_value(membership, contest, payloads[2][:200], payloads[3][:200])
    contests.draw_contest(membership, contest)
    Contest.objects.filter(pk=contest.pk).update(post_url=links[0])

    # Landing pages: every piece of copy a member edits, and image alt texts.
    def landing_page(slug: str, **copy) -> Page:
        return Page.objects.create(
            workspace=workspace, slug=slug, language="ru", published=True, edited=True, **copy
        )

    page = landing_page(
        "xss",
        title=payloads[9][:120],
        description=payloads[1][:300],
        h1=payloads[2][:200],
        intro="\n\n".join(payloads[:10]),
        sections=[{"kind": "text", "heading": text[:200], "text": text} for text in payloads],
        faq=[{"question": text, "answer": text} for text in payloads],
        images=[{"src": link, "alt": payloads[n]} for n, link in enumerate(links)]
        + [{"src": "/static/smmdesk/favicon.svg", "alt": payloads[10]}],
    )
    landing_page(
        "xss-second",
        title=payloads[3][:120],
        description=payloads[6][:300],
        h1=payloads[6][:200],
        intro=payloads[7],
    )

    chat = channels.create_channel(
        workspace,
        "webchat",
        "Site chat",
        {"allowed_origins": chat_origin, "title": payloads[1][:80], "greeting": payloads[2][:300]},
    )
    return {
        "workspace": WORKSPACE,
        "owner": OWNER,
        "conversations": sorted(workspace.conversations.values_list("pk", flat=True)),
        "contest": contest.pk,
        "proof_token": contest.proof_token,
        "page": page.pk,
        "page_slug": page.slug,
        "chat_channel": chat.pk,
        "chat_key": chat.typed_config().public_key,
    }


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(seed(sys.argv[1])))
