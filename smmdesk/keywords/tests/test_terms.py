import pytest

from smmdesk.keywords import generate, terms
from smmdesk.keywords.manual import KeywordError, NotAllowed
from smmdesk.keywords.models import Keyword, Landmark, NegativeKeyword
from smmdesk.keywords.tests.k1_fixtures import *  # noqa: F403
from smmdesk.keywords.tests.k1_fixtures import member

pytestmark = pytest.mark.django_db


def test_add_and_remove_a_landmark(salon):
    owner = member(salon)
    landmark = terms.add_landmark(owner, "  железнодорожный   вокзал ", "ru")
    assert landmark.name == "железнодорожный вокзал"
    assert landmark.workspace == salon.workspace
    terms.remove_landmark(owner, landmark)
    assert not Landmark.objects.exists()


@pytest.mark.parametrize(
    ("name", "language", "field"),
    [
        ("", "ru", "name"),
        ("   ", "ru", "name"),
        ("x", "ru", "name"),
        ("123", "ru", "name"),
        ("a" * 121, "ru", "name"),
        ("метро\x00", "ru", "name"),
        (None, "ru", "name"),
        ("метро", "de", "language"),
        ("метро", None, "language"),
    ],
)
def test_bad_landmarks_are_refused_naming_the_field(salon, name, language, field):
    with pytest.raises(KeywordError) as refused:
        terms.add_landmark(member(salon), name, language)
    assert refused.value.field == field
    assert not Landmark.objects.exists()


def test_a_landmark_is_there_once_whatever_its_case(salon):
    terms.add_landmark(member(salon), "Метро", "ru")
    with pytest.raises(KeywordError):
        terms.add_landmark(member(salon), "метро", "ru")


def test_a_negative_excludes_the_queries_at_once_and_removing_it_brings_them_back(salon):
    owner = member(salon)
    generate.run(owner)
    cheap = Keyword.objects.filter(query__icontains="недорого")
    assert cheap.exists() and not cheap.filter(excluded=True).exists()
    negative = terms.add_negative(owner, "Недорого")
    assert negative.phrase == "недорого"
    assert negative.lemmas == ["недорого"]
    assert not cheap.filter(excluded=False).exists()
    terms.remove_negative(owner, negative)
    assert not cheap.filter(excluded=True).exists()
    assert not NegativeKeyword.objects.exists()


@pytest.mark.parametrize("phrase", ["", "в на", "one two three four five", None, "x" * 121])
def test_bad_negatives_are_refused(salon, phrase):
    with pytest.raises(KeywordError) as refused:
        terms.add_negative(member(salon), phrase)
    assert refused.value.field == "phrase"
    assert not NegativeKeyword.objects.exists()


def test_duplicate_negative_is_refused(salon):
    terms.add_negative(member(salon), "курсы")
    with pytest.raises(KeywordError):
        terms.add_negative(member(salon), "Курсы")


def test_only_managers_change_terms_and_only_their_own(salon):
    with pytest.raises(NotAllowed):
        terms.add_landmark(member(salon, "content_manager"), "метро", "ru")
    with pytest.raises(NotAllowed):
        terms.add_negative(member(salon, "viewer"), "курсы")
    foreign = Landmark.objects.create(workspace=salon.other, name="метро", language="ru")
    with pytest.raises(KeywordError):
        terms.remove_landmark(member(salon), foreign)
    assert Landmark.objects.filter(pk=foreign.pk).exists()
