"""A demo-like hairdresser profile (as smmdesk/core/demo.py has it) on the `cast` workspace (import
with `from ...k1_fixtures import *`)."""

__all__ = ["salon", "slovak_salon"]

from decimal import Decimal

import pytest

from smmdesk.accounts.models import Membership
from smmdesk.business.models import Service

SERVICES = [
    ("Мужская стрижка", ["men's haircut", "стрижка мужская", "мужская причёска"]),
    ("Женская стрижка", ["women's haircut", "стрижка женская", "дамская стрижка"]),
    ("Детская стрижка", ["children's haircut", "стрижка для ребёнка"]),
    ("Свадебная причёска", ["wedding hairstyle", "причёска на свадьбу", "укладка невесты"]),
]
SLOVAK_SERVICES = [
    ("Pánsky strih", ["men's haircut", "strih pre mužov"]),
    ("Dámsky strih", ["women's haircut", "strih pre ženy"]),
]


def furnish(workspace, city, districts, languages, services):
    profile = workspace.profile
    profile.city, profile.districts, profile.languages = city, districts, languages
    profile.save()
    for name, synonyms in services:
        Service.objects.create(workspace=workspace, name=name, price=Decimal("100"), synonyms=synonyms)


@pytest.fixture
def salon(cast):
    furnish(cast.workspace, "Оренбург", ["Ленинский", "Центральный"], ["ru", "en"], SERVICES)
    return cast


@pytest.fixture
def slovak_salon(cast):
    furnish(cast.other, "Bratislava", ["Petržalka", "Staré Mesto"], ["sk", "en"], SLOVAK_SERVICES)
    return cast


def member(cast, role="owner"):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])
