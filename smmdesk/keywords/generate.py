"""Queries from the business profile: direct (service × place × commercial modifier) and indirect
(informational templates per service), in each of the workspace's languages.

Which language a service phrase is in: Cyrillic is Russian; Latin text goes to the workspace's Latin
language whose simplemma dictionary knows most of its words ("strih pre deti" → sk, "men's haircut" →
en). So a Russian salon's English synonyms feed its English queries.

Places per language (the {g}/{G} of data/templates.json): the city, each district alone and with the
city, "near me", and each landmark of that language — Russian "у метро" / "рядом с вокзалом", Slovak
"pri stanici", English "near the station". Russian names are transliterated for English.
`candidates` works on plain data (ProfileData), so the benchmark can feed it a made-up big profile;
`run` reads the workspace, keys every candidate (normalize.key), stores the new ones and marks the
negative ones excluded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import transaction

from smmdesk.keywords import inflect, normalize
from smmdesk.keywords.models import Intent, Keyword, Kind
from smmdesk.nlp.lemmas import CYRILLIC

TEMPLATES = {
    language: spec
    for language, spec in json.loads((normalize.DATA / "templates.json").read_text(encoding="utf-8")).items()
    if not language.startswith("_")
}
LANGUAGES = tuple(TEMPLATES)
SLOTS = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Candidate:
    query: str
    kind: str
    service_id: int | None
    language: str


@dataclass
class ServiceData:
    id: int | None
    names: list[str]  # the name first, then its synonyms


@dataclass
class ProfileData:
    name: str
    city: str
    districts: list[str]
    languages: list[str]
    services: list[ServiceData]
    landmarks: list[tuple[str, str]] = field(default_factory=list)  # (name, language)

    def places(self) -> list[str]:
        return [self.city, *self.districts, *(name for name, _language in self.landmarks)]


@lru_cache(maxsize=4096)
def phrase_language(text: str, languages: tuple[str, ...]) -> str | None:
    """Which of the workspace's languages a service name or synonym is written in, if any."""
    if CYRILLIC.search(text):
        return "ru" if "ru" in languages else None
    latin = [language for language in languages if language != "ru"]
    if len(latin) < 2:
        return latin[0] if latin else None
    import simplemma

    scores = [(simplemma.in_target_language(text, lang=language), language) for language in latin]
    best = max(score for score, _language in scores)
    return next(language for score, language in scores if score == best)


def _lower_first(phrase: str) -> str:
    """Service names are capitalised in the profile; people type them in lower case."""
    first = phrase.split()[0] if phrase.split() else ""
    if first[:1].isupper() and not first.isupper():
        return phrase[:1].lower() + phrase[1:]
    return phrase


# --- places ---------------------------------------------------------------------------------------


def _places_ru(profile: ProfileData, landmarks: list[str]) -> list[tuple[str, str]]:
    city = profile.city
    places = [(city, inflect.ru_with("в", city, "loct"))] if city else []
    for district in profile.districts:
        name = inflect.ru_district(district)
        located = inflect.ru_with("в", name, "loct")
        places.append((name, located))
        if city:
            places.append((f"{name} {city}", inflect.ru_in_district(name, city)))
    places += [(near, near) for near in TEMPLATES["ru"]["near_me"]]
    for landmark in landmarks:
        for near in (
            inflect.ru_with("у", landmark, "gent"),
            "рядом " + inflect.ru_with("с", landmark, "ablt"),
        ):
            places.append((near, near))
    return places


def _places_sk(profile: ProfileData, landmarks: list[str]) -> list[tuple[str, str]]:
    city = inflect.transliterate(profile.city)
    places = [(city, inflect.sk_with("v", city))] if city else []
    for district in map(inflect.transliterate, profile.districts):
        places.append((district, inflect.sk_with("v", district)))
        if city:
            places.append((f"{city} {district}", inflect.sk_in_district(district, city)))
    places += [(near, near) for near in TEMPLATES["sk"]["near_me"]]
    places += [(near, near) for near in ("pri " + inflect.sk_inflect(name, "loc") for name in landmarks)]
    return places


def _places_en(profile: ProfileData, landmarks: list[str]) -> list[tuple[str, str]]:
    city = inflect.en_place(profile.city)
    places = [(city, f"in {city}")] if city else []
    for district in map(inflect.en_district, profile.districts):
        places.append((district, f"in {district}"))
        if city:
            places.append((f"{district} {city}", inflect.en_in_district(district, city)))
    places += [(near, near) for near in TEMPLATES["en"]["near_me"]]
    places += [(f"near {name}", f"near {name}") for name in landmarks]
    return places


PLACES = {"ru": _places_ru, "sk": _places_sk, "en": _places_en}


# --- service forms --------------------------------------------------------------------------------


def _forms(phrase: str, language: str) -> dict[str, str]:
    """The {s…} and {best} slots for one service phrase."""
    if language == "ru":
        return {
            "s": phrase,
            "s_acc": inflect.ru_inflect(phrase, "accs"),
            "s_gen": inflect.ru_inflect(phrase, "gent"),
            "s_loc": inflect.ru_inflect(phrase, "loct"),
            "best": inflect.ru_agree("лучший", phrase),
        }
    if language == "sk":
        return {
            "s": phrase,
            "s_acc": phrase,
            "s_gen": inflect.sk_inflect(phrase, "gen"),
            "s_loc": inflect.sk_inflect(phrase, "loc"),
            "best": inflect.sk_agree("najlepší", phrase),
        }
    return {"s": phrase, "s_acc": phrase, "s_gen": phrase, "s_loc": phrase, "best": "best"}


def fill(template: str, slots: dict[str, str]) -> str:
    """The template with its slots filled; an empty slot (no place) leaves no double space."""
    return " ".join(SLOTS.sub(lambda m: slots.get(m.group(1), ""), template).split())


def _topics(phrase: str, language: str) -> list[str]:
    words = normalize.lemmas(phrase, language)
    found = []
    for word, queries in TEMPLATES[language].get("topics", {}).items():
        if normalize.lemmas(word, language) <= words:
            found += queries
    return found


# --- candidates -----------------------------------------------------------------------------------


def _phrases(profile: ProfileData, language: str) -> Iterator[tuple[ServiceData, str]]:
    languages = tuple(profile.languages)
    for service in profile.services:
        for name in service.names:
            name = " ".join(name.split())
            if name and phrase_language(name, languages) == language:
                yield service, _lower_first(name)


def candidates(profile: ProfileData) -> Iterator[Candidate]:
    """Every query the profile suggests, direct first, in the profile's languages we have templates for."""
    for language in profile.languages:
        if language not in TEMPLATES:
            continue
        spec = TEMPLATES[language]
        landmarks = [name for name, lang in profile.landmarks if lang == language]
        places = [("", ""), *PLACES[language](profile, landmarks)]
        phrases = list(_phrases(profile, language))
        for service, phrase in phrases:
            forms = _forms(phrase, language)
            for plain, located in places:
                for template in spec["direct"]:
                    query = fill(template, {**forms, "g": plain, "G": located})
                    yield Candidate(query, Kind.DIRECT, service.id, language)
        for service, phrase in phrases:
            forms = _forms(phrase, language)
            for template in spec["indirect"]:
                yield Candidate(fill(template, forms), Kind.INDIRECT, service.id, language)
            for query in _topics(phrase, language):
                yield Candidate(query, Kind.INDIRECT, service.id, language)


# --- storing --------------------------------------------------------------------------------------


def profile_data(workspace) -> ProfileData:
    from smmdesk.business.models import BusinessProfile

    profile = BusinessProfile.objects.filter(workspace=workspace).first()
    services = [
        ServiceData(service.id, [service.name, *(s for s in service.synonyms or () if isinstance(s, str))])
        for service in workspace.services.all()
    ]
    landmarks = list(workspace.landmarks.values_list("name", "language"))
    if profile is None:
        return ProfileData(workspace.name, "", [], [], services, landmarks)
    districts = [d for d in profile.districts or () if isinstance(d, str) and d.strip()]
    return ProfileData(
        profile.name, profile.city, districts, list(profile.languages or ()), services, landmarks
    )


def _intent_of(candidate: Candidate, profile: ProfileData) -> str:
    try:
        from smmdesk.keywords import intent
    except ImportError:  # before the intent rules existed: indirect asks, direct sells
        return Intent.INFORMATIONAL if candidate.kind == Kind.INDIRECT else Intent.COMMERCIAL
    return intent.classify(candidate.query, candidate.language, brand=[profile.name], places=profile.places())


def _negatives(workspace, language: str) -> list[str]:
    from smmdesk.keywords.manual import negatives_of

    return negatives_of(workspace, language)


def mark_excluded(workspace) -> int:
    """Re-check every query of the workspace against its negatives; an excluded query leaves its
    cluster. Returns how many are excluded."""
    excluded = 0
    by_language: dict[str, list[str]] = {}
    changed = []
    for keyword in Keyword.objects.filter(workspace=workspace).only("id", "query", "language", "excluded"):
        if keyword.language not in by_language:
            by_language[keyword.language] = _negatives(workspace, keyword.language)
        negative = normalize.is_negative(keyword.query, keyword.language, by_language[keyword.language])
        excluded += negative
        if negative != keyword.excluded:
            keyword.excluded = negative
            changed.append(keyword)
    Keyword.objects.bulk_update(changed, ["excluded"], batch_size=500)
    Keyword.objects.filter(workspace=workspace, excluded=True, cluster__isnull=False).update(cluster=None)
    return excluded


def run(membership) -> dict:
    """Generate and store the workspace's queries. Idempotent: a query whose key is already there
    (generated, imported with a volume, or added by hand) is kept as it is."""
    from smmdesk.keywords.manual import check_manage

    check_manage(membership)
    workspace = membership.workspace
    profile = profile_data(workspace)
    seen: dict[tuple[str, str], Candidate] = {}
    count = 0
    for candidate in candidates(profile):
        count += 1
        found = normalize.key(candidate.query, candidate.language)
        if found:
            seen.setdefault((candidate.language, found), candidate)
    with transaction.atomic():
        existing = set(Keyword.objects.filter(workspace=workspace).values_list("language", "normalized"))
        new = [
            Keyword(
                workspace=workspace,
                query=candidate.query[:300],
                normalized=key,
                language=language,
                kind=candidate.kind,
                intent=_intent_of(candidate, profile),
                source=Keyword.Source.GENERATED,
                service_id=candidate.service_id,
            )
            for (language, key), candidate in seen.items()
            if (language, key) not in existing
        ]
        Keyword.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        excluded = mark_excluded(workspace)
    return {"candidates": count, "unique": len(seen), "created": len(new), "excluded": excluded}
