"""A query added by hand (Keyword source "manual"): normalised, classified and checked against the
negative keywords the way generated ones are, so it dedups with them and lands in a cluster on the next
re-clustering."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smmdesk.accounts.roles import allowed
from smmdesk.channels.webhook.payload import has_unstorable
from smmdesk.keywords import intent as intents
from smmdesk.keywords import normalize
from smmdesk.keywords.models import Intent, Keyword, Kind, NegativeKeyword

LANGUAGES = {"ru": gettext_lazy("Russian"), "sk": gettext_lazy("Slovak"), "en": gettext_lazy("English")}
MAX_QUERY = 300
# Someone who asks how to do it is after information; every other intent is a query a page sells to.
INDIRECT_INTENTS = {Intent.INFORMATIONAL}


class KeywordError(Exception):
    """Refused input; `field` names it for the form or the API answer."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotAllowed(KeywordError):
    def __init__(self):
        super().__init__("role", _("Your role does not allow changing keywords."))


def check_manage(membership) -> None:
    if not allowed(membership.role, "keywords.manage"):
        raise NotAllowed()


def clean_language(value) -> str:
    if not isinstance(value, str) or value not in LANGUAGES:
        raise KeywordError("language", _("Choose one of: %(codes)s.") % {"codes": ", ".join(LANGUAGES)})
    return value


def clean_query(value) -> str:
    if not isinstance(value, str):
        raise KeywordError("query", _("Enter a query."))
    if has_unstorable(value):
        raise KeywordError("query", _("The text contains characters that are not allowed."))
    query = " ".join(value.split())
    if not query:
        raise KeywordError("query", _("Enter a query."))
    if len(query) > MAX_QUERY:
        raise KeywordError("query", _("Enter at most %(count)d characters.") % {"count": MAX_QUERY})
    return query


def negatives_of(workspace, language: str) -> list[str]:
    """The workspace's negative phrases plus the language's defaults."""
    own = list(NegativeKeyword.objects.filter(workspace=workspace).values_list("phrase", flat=True))
    return own + list(normalize.DEFAULT_NEGATIVES.get(language, ()))


def kind_of(intent: str) -> str:
    """The kind of a query that has no template to say it (imported, added by hand)."""
    return Kind.INDIRECT if intent in INDIRECT_INTENTS else Kind.DIRECT


def profile_terms(workspace) -> tuple[list[str], list[str]]:
    """(brand, places) for the intent rules: the business's name; its city, districts and landmarks."""
    profile = getattr(workspace, "profile", None)
    if profile is None:
        return [], []
    places = [profile.city, *(profile.districts or []), *workspace.landmarks.values_list("name", flat=True)]
    return [profile.name], [place for place in places if place]


def add_query(membership, query, language) -> Keyword:
    check_manage(membership)
    query, language = clean_query(query), clean_language(language)
    workspace = membership.workspace
    key = normalize.key(query, language)
    if not key:
        raise KeywordError("query", _("The query has no words besides stop words."))
    existing = Keyword.objects.filter(workspace=workspace, language=language, normalized=key).first()
    if existing is not None:
        raise KeywordError(
            "query",
            _("Already there, as “%(query)s”: word order and forms do not make a new query.")
            % {"query": existing.query},
        )
    brand, places = profile_terms(workspace)
    intent = intents.classify(query, language, brand=brand, places=places)
    try:
        with transaction.atomic():
            return Keyword.objects.create(
                workspace=workspace,
                query=query,
                normalized=key[:300],
                language=language,
                kind=kind_of(intent),
                intent=intent,
                source=Keyword.Source.MANUAL,
                excluded=normalize.is_negative(query, language, negatives_of(workspace, language)),
            )
    except IntegrityError:  # added by someone else a moment ago
        raise KeywordError("query", _("Already there: word order and forms do not make a new query."))
