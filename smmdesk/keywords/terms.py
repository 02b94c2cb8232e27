"""Landmarks and negative keywords of a workspace: add and remove, with validation.

A landmark is a place people name in local queries ("метро", "вокзал", "Aupark"): 2–120 characters with
at least one letter, in one of the languages we generate for, once per workspace (case-insensitive).
A negative keyword is a word or short phrase (at most MAX_NEGATIVE_WORDS words) that marks a worthless
query; it is stored with its lemmas so every form is caught, and adding or removing one re-checks the
workspace's queries at once (an excluded query leaves its cluster).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from smmdesk.keywords import normalize
from smmdesk.keywords.generate import LANGUAGES, mark_excluded, phrase_language
from smmdesk.keywords.manual import KeywordError, check_manage
from smmdesk.keywords.models import Landmark, NegativeKeyword
from smmdesk.nlp.lemmas import WORD

MAX_NAME = 120
MAX_NEGATIVE_WORDS = 4


def _text(value, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise KeywordError(field, _("Enter a text."))
    if any(ord(char) < 32 or char in "\ufffe\uffff" for char in value):
        raise KeywordError(field, _("The text contains characters that are not allowed."))
    text = " ".join(value.split())
    if not text:
        raise KeywordError(field, _("This field is required."))
    if len(text) > limit:
        raise KeywordError(field, _("Enter at most %(count)d characters.") % {"count": limit})
    if not WORD.search(text):
        raise KeywordError(field, _("Enter at least one word."))
    return text


def _language(value) -> str:
    if value not in LANGUAGES:
        raise KeywordError("language", _("Choose one of: %(codes)s.") % {"codes": ", ".join(LANGUAGES)})
    return value


def _own(workspace, row, model):
    if not isinstance(row, model) or row.workspace_id != workspace.id:
        raise KeywordError("id", _("Not found in this workspace."))
    return row


def add_landmark(membership, name, language) -> Landmark:
    check_manage(membership)
    workspace = membership.workspace
    name = _text(name, "name", MAX_NAME)
    if len(name) < 2:
        raise KeywordError("name", _("Enter at least 2 characters."))
    language = _language(language)
    # In Python: SQLite compares only ASCII letters case-insensitively ("Метро" vs "метро").
    taken = Landmark.objects.filter(workspace=workspace).values_list("name", flat=True)
    if name.casefold() in {other.casefold() for other in taken}:
        raise KeywordError("name", _("This landmark is already there."))
    try:
        with transaction.atomic():
            return Landmark.objects.create(workspace=workspace, name=name, language=language)
    except IntegrityError:  # added at the same moment by someone else
        raise KeywordError("name", _("This landmark is already there."))


def remove_landmark(membership, landmark: Landmark) -> None:
    check_manage(membership)
    _own(membership.workspace, landmark, Landmark).delete()


def _lemmas(phrase: str, languages: tuple[str, ...]) -> list[str]:
    """Lemmas in the phrase's language (by script and dictionary), else in each workspace language."""
    language = phrase_language(phrase, languages)
    found: set[str] = set()
    for candidate in (language,) if language else languages:
        found |= normalize.lemmas(phrase, candidate)
    return sorted(found)


def add_negative(membership, phrase) -> NegativeKeyword:
    check_manage(membership)
    workspace = membership.workspace
    phrase = _text(phrase, "phrase", MAX_NAME).casefold()
    if len(WORD.findall(phrase)) > MAX_NEGATIVE_WORDS:
        raise KeywordError(
            "phrase",
            _("Enter at most %(count)d words: a longer phrase rarely matches.")
            % {"count": MAX_NEGATIVE_WORDS},
        )
    profile = getattr(workspace, "profile", None)
    languages = tuple(lang for lang in getattr(profile, "languages", None) or LANGUAGES if lang in LANGUAGES)
    lemmas = _lemmas(phrase, languages or LANGUAGES)
    if not lemmas:
        raise KeywordError("phrase", _("The phrase has only stop words; it would exclude nothing."))
    if NegativeKeyword.objects.filter(workspace=workspace, phrase=phrase).exists():
        raise KeywordError("phrase", _("This negative keyword is already there."))
    try:
        with transaction.atomic():
            row = NegativeKeyword.objects.create(workspace=workspace, phrase=phrase, lemmas=lemmas)
            mark_excluded(workspace)
    except IntegrityError:
        raise KeywordError("phrase", _("This negative keyword is already there."))
    return row


def remove_negative(membership, negative: NegativeKeyword) -> None:
    check_manage(membership)
    workspace = membership.workspace
    with transaction.atomic():
        _own(workspace, negative, NegativeKeyword).delete()
        mark_excluded(workspace)
