"""What the id-in-a-field tests (test_idor_fields.py) need to know: which field names name an object, of
which model, and how many rows point at a given object (what a foreign id, once accepted, would add).

Finding the fields is generic (model choice fields of the rendered forms, id-like values in the HTML,
`_id`/`_ids` names and model names in the API schema); what is written here is only what cannot be read
from the code: which model a plain choice field or an API property means, and which id-like names are not
ids of rows at all.
"""

from __future__ import annotations

import re
from functools import cache

# The key of sample_objects (tests/test_permissions.py) or of the `ids` fixture's extras for each model: a
# row that the field would accept if it were in the workspace.
SAMPLE_KEY = {
    "accounts.Membership": "membership",
    "business.Department": "department",
    "business.Service": "service",
    "channels.Channel": "channel",
    "inbox.Conversation": "conversation",
    "inbox.CannedReply": "reply",
    "inbox.Customer": "customer",
    "publishing.MediaAsset": "asset",
    "publishing.Campaign": "post_campaign",
    "publishing.Post": "approved_post",
    "publishing.Variant": "published_variant",
    "audience.Segment": "segment",
    "keywords.Cluster": "cluster",
    "keywords.Keyword": "keyword",
    "listening.Source": "source",
    "listening.TrackedTerm": "term",
    "ads.Campaign": "campaign",
}

# Fields whose values are ids but whose form field is a plain (typed) choice, so the page cannot say which
# model they name; the same names in API bodies. Keyed by the name without its form prefix or list path.
FIELD_MODEL = {
    "channel": "channels.Channel",
    "channels": "channels.Channel",
    "media": "publishing.MediaAsset",
    "services": "business.Service",
    "service_id": "business.Service",
    "clusters": "keywords.Cluster",
    "keywords": "keywords.Keyword",
    "keyword_id": "keywords.Keyword",
    "members": "accounts.Membership",
    "membership_id": "accounts.Membership",
    "department_id": "business.Department",
    "segment": "audience.Segment",
    "post": "publishing.Post",
    "variant": "publishing.Variant",
    "ids": "inbox.Conversation",
    "campaign": "publishing.Campaign",
    "department": "business.Department",
    "assignee": "accounts.Membership",
    "term": "listening.TrackedTerm",
    "cluster": "keywords.Cluster",
}
# A name that means different models in different places, by a fragment of the form's or operation's path:
# a post's campaign is a publishing one, an ad's an ads one; an order's service is free text, but the
# service map picks a profile service, and the mentions are filtered by a listening source.
PATH_FIELD_MODEL = {
    ("/ads/", "campaign"): "ads.Campaign",
    ("/audience/services", "service"): "business.Service",
    ("/listening/", "source"): "listening.Source",
}

# Names that look like ids (or like a model) but name no row of a workspace: why, so nobody re-checks.
NOT_OBJECTS = {
    "order_id": "the business's own order number, free text",
    "client_id": "the business's own client number, free text",
    "account_id": "the account's id on the social network",
    "telegram_chat_id": "a Telegram chat id, free text",
    "post_external_id": "a post's id on the social network",
    "published": "a flag (1/0), not a row",
    "source": "an order's marketing source, free text",
    "service": "an order's service as the business writes it, free text",
    "utm_campaign": "a UTM tag, free text",
    "new_campaign": "the name of a campaign to create",
    "note": "free text for the department",
    "comment": "free text for the author",
    "name": "free text",
    "query": "free text",
    "images": "a page's image alt texts, in order",
    "variants": "a post's variants written out in full (their channel and media are ids, checked)",
    "priority": "a priority from a fixed list of numbers",
    "set_priority": "a priority from a fixed list of numbers",
    "period": "a number of days to report on",
}
# Forms whose numbered choices are no rows at all, by the URL name they post to.
TARGET_NOT_OBJECTS = {
    "ads:stats_upload": "every select picks a column of the uploaded file",
    "audience:import_job": "every select picks a column of the uploaded file",
}

ID_SUFFIX = re.compile(r"(_id|_ids|^ids)$")


def bare(name: str) -> str:
    """A form field's name without its prefix ("v1-media" → "media"), an API property's without its path
    ("variants.[].channel" → "channel")."""
    return name.rsplit("-", 1)[-1].rsplit(".", 1)[-1]


@cache
def object_words() -> frozenset[str]:
    """Every model name of smmdesk and the last word of its verbose name, singular and plural."""
    from django.apps import apps

    words = set()
    for model in apps.get_models():
        if model.__module__.startswith("smmdesk."):
            for word in (model._meta.model_name, str(model._meta.verbose_name).split()[-1].lower()):
                words |= {word, word + "s"}
    return frozenset(words | {"media", "image", "images", "member", "members", "assignee"})


def model_of(name: str, path: str = "") -> str | None:
    name = bare(name)
    for (fragment, field), label in PATH_FIELD_MODEL.items():
        if field == name and fragment in path:
            return label
    return None if name in NOT_OBJECTS else FIELD_MODEL.get(name)


def names_an_object(name: str, path: str = "") -> bool:
    if model_of(name, path):
        return True
    name = bare(name)
    return name not in NOT_OBJECTS and (bool(ID_SUFFIX.search(name)) or name in object_words())


def references(label: str, pk: int) -> int:
    """How many rows point at the object: foreign keys and many-to-many links to it, from every model."""
    from django.apps import apps

    model = apps.get_model(label)
    total = 0
    for relation in model._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            for field in through._meta.concrete_fields:
                if field.is_relation and field.related_model is model:
                    total += through.objects.filter(**{field.attname: pk}).count()
        else:
            total += relation.related_model._base_manager.filter(**{relation.field.attname: pk}).count()
    return total
