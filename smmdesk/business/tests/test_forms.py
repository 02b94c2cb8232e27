"""Parsing rules shared by the settings pages and the API."""

from datetime import time

import pytest
from django import forms as django_forms

from smmdesk.business.fields import IntervalsField, ListField
from smmdesk.business.forms import WeekForm
from smmdesk.business.hours import END_OF_DAY


def test_list_field_splits_strips_and_dedupes():
    field = ListField()
    assert field.clean("Leninsky, Central\n  Promyshlenny ;leninsky\n\n") == [
        "Leninsky",
        "Central",
        "Promyshlenny",
    ]
    assert field.clean(["Leninsky", " leninsky ", "Nord,South"]) == ["Leninsky", "Nord", "South"]
    assert field.clean("") == []
    assert field.prepare_value(["a", "b"]) == "a\nb"


def test_list_field_limits():
    field = ListField(max_items=3, max_item_length=10)
    with pytest.raises(django_forms.ValidationError, match="at most 3"):
        field.clean("a, b, c, d")
    with pytest.raises(django_forms.ValidationError, match="too long"):
        field.clean("x" * 11)
    with pytest.raises(django_forms.ValidationError, match="text"):
        field.clean(["ok", 5])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-13:00, 14:00-19:00", [(time(9), time(13)), (time(14), time(19))]),
        ("9-18", [(time(9), time(18))]),
        ("14.00 – 19.30; 9:00—13:00", [(time(9), time(13)), (time(14), time(19, 30))]),
        ("18:00-24:00", [(time(18), END_OF_DAY)]),
        ("", []),
    ],
)
def test_intervals_parse(text, expected):
    assert IntervalsField().clean(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nine to five", "not a time range"),
        ("25:00-26:00", "does not exist"),
        ("09:70-10:00", "does not exist"),
        ("18:00-09:00", "closing time must be later"),
        ("10:00-10:00", "closing time must be later"),
        ("09:00-13:00, 12:00-15:00", "overlap"),
        ("24:00-24:00", "does not exist"),
        (", ".join(["1-2", "3-4", "5-6", "7-8", "9-10", "11-12", "13-14"]), "at most 6"),
    ],
)
def test_intervals_refused(text, message):
    with pytest.raises(django_forms.ValidationError, match=message):
        IntervalsField().clean(text)


def test_touching_intervals_are_not_an_overlap():
    assert IntervalsField().clean("09:00-13:00, 13:00-15:00") == [(time(9), time(13)), (time(13), time(15))]


def test_week_form_names_the_day_at_fault():
    form = WeekForm(data={"monday": "09:00-18:00", "wednesday": "18-09"})
    assert not form.is_valid()
    assert list(form.errors) == ["wednesday"]
