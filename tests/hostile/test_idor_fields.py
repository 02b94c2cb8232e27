"""Another workspace's objects named inside a form field or an API body (IDOR through fields, not URLs).

tests/test_permissions.py sweeps the ids of addresses; here every field that names a row is found and
sent, one at a time, with the id of a row of the same kind in another workspace and with a made-up id:

- Every page of the URL conf is opened as the owner (as tests/hostile/test_forms.py does), and a field of
  its POST forms (writes) and GET forms (list filters) names an object when the rendered Django form says
  so (a model choice field), when its values are ids (a select, checkbox, radio or hidden input with
  numbers) or when its name is an id's or a model's.
- The API's bodies and filters: test_idor_api.py.

Each is refused naming the field (the form comes back with an error on it, or the page it redirects to
shows one), never with a 500, and no row comes to point at the other workspace's object. A field the tests
cannot place (no model known for it) fails here until idor.py says what it names; a field a form class
declares that no page offered fails test_every_form_field_naming_rows_was_sent.
"""

from __future__ import annotations

import re

import pytest
from django import forms as django_forms
from django.contrib import messages

from tests.hostile.forms import Field, Form, forms_by_target
from tests.hostile.idor import (
    NOT_OBJECTS,
    SAMPLE_KEY,
    TARGET_NOT_OBJECTS,
    bare,
    model_of,
    names_an_object,
    references,
)
from tests.test_permissions import MISSING_ID, WORKSPACE_ROUTES, build

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]

NUMBER = re.compile(r"^[1-9]\d*$")
VARIANT_PREFIX = re.compile(r"^v(\d+)-")
SKIPPED = {"accounts:logout"}
# What the crawl reached: (target URL name, field) → the model its ids name.
REACHED: dict[tuple[str, str], str] = {}
# And the Django form classes those fields belong to: (module.Class, field name).
REACHED_CLASSES: set[tuple[str, str]] = set()
# The routes crawled in this run: the guard below judges only a whole crawl, not a selection of it.
CRAWLED: set[str] = set()


def rendered_forms(response) -> list[django_forms.BaseForm]:
    """The Django forms in a response's template context, formsets and holders of forms opened."""
    found: list[django_forms.BaseForm] = []

    def collect(value, depth=0):
        if isinstance(value, django_forms.BaseForm):
            found.append(value)
        elif isinstance(value, django_forms.BaseFormSet):
            found.extend(value.forms)
        elif depth < 2 and isinstance(value, list | tuple):
            for item in value:
                collect(item, depth + 1)
        elif depth < 2 and isinstance(value, dict):
            for item in value.values():
                collect(item, depth + 1)
        elif depth < 1 and type(value).__module__.startswith("smmdesk."):
            for item in vars(value).values() if hasattr(value, "__dict__") else ():
                collect(item, depth + 1)

    context = response.context
    for layer in context if isinstance(context, list) else [context] if context else []:
        for scope in layer:
            for value in scope.values():
                collect(value)
    return found


def model_fields(response) -> dict[str, tuple[str, str]]:
    """HTML field name → (model label, field label), for every model choice field of the rendered forms."""
    return {
        form.add_prefix(name): (field.queryset.model._meta.label, str(field.label or name))
        for form in rendered_forms(response)
        for name, field in form.fields.items()
        if isinstance(field, django_forms.ModelChoiceField)
    }


def looks_like_ids(item: Field) -> bool:
    values = [item.value, *item.options]
    return item.kind in ("select", "checkbox", "radio", "hidden") and any(NUMBER.match(v) for v in values)


def object_fields(form: Form, target: str, models: dict) -> dict[str, str]:
    """The form's fields that name rows: HTML name → model label (None: a row the tests cannot place)."""
    if target in TARGET_NOT_OBJECTS:
        return {}
    found = {}
    for item in form.fields:
        if item.name in models:
            found[item.name] = models[item.name][0]
        elif model_of(item.name, form.action) or (
            bare(item.name) not in NOT_OBJECTS and (looks_like_ids(item) or names_an_object(item.name))
        ):
            found[item.name] = model_of(item.name, form.action)
    return found


def submissions(form: Form, target: str, item: Field, value: int, mine: dict, objects: dict) -> list[dict]:
    """The form as the page filled it, its other id fields left empty given one of the workspace's own ids
    (so that only `item` is wrong), with `item` carrying `value`; for a field of many ids (checkboxes)
    also with one of the workspace's own ids beside it, the mix a check of only the first id would miss."""
    data = {k: v for k, v in form.data().items() if k != item.name}
    for name, label in objects.items():
        if name != item.name and not any(data.get(name, [])):
            data[name] = [str(mine[SAMPLE_KEY[label]])]
    data.update(BUTTONS.get(target, {}))
    chosen = VARIANT_PREFIX.match(item.name)
    if chosen and "channels" in objects:
        # The post editor reads a channel's variant fields (prefix v<channel id>) only when it is chosen.
        data["channels"] = [chosen[1]]
    sent = [{**data, item.name: [str(value)]}]
    if item.kind == "checkbox" and value != MISSING_ID:
        sent.append({**data, item.name: [str(mine[SAMPLE_KEY[objects[item.name]]]), str(value)]})
    return sent


# Fields a target does not read, sent only because its form shares them with another target.
IGNORED = {("keywords:split", "target"): "the move button's field: a split makes a new cluster"}
# Targets that save nothing and answer with what they were sent (the editor's live preview).
PREVIEWS = {"publishing:preview"}
# The submit button a form needs pressed for the field to matter (buttons are not read from the page).
BUTTONS = {"inbox:bulk": {"action": ["assign"]}}


def assert_refused_on(client, response, field: str, label: str | None, case) -> None:
    """Refused, naming the field: the form comes back (200 or 4xx) with an error on it, or the page it
    redirects to shows an error with the field's label (the actions of a conversation)."""
    if response.status_code == 302:
        shown = client.get(response["Location"]).context["messages"]
        errors = [str(m) for m in shown if m.level >= messages.ERROR]
        assert errors, (case, "redirected without an error", response["Location"])
        assert label is None or any(label in e for e in errors), (case, label, errors)
        return
    assert response.status_code == 200 or 400 <= response.status_code < 500, (case, response.status_code)
    errors = {
        form.add_prefix(name) for form in rendered_forms(response) if form.is_bound for name in form.errors
    }
    assert field in errors, (case, response.status_code, "no error on the field", sorted(errors))


@pytest.mark.parametrize("route,pattern,name", WORKSPACE_ROUTES, ids=[n for _r, _p, n in WORKSPACE_ROUTES])
def test_foreign_ids_in_form_fields(owner, world, ids, route, pattern, name):
    CRAWLED.add(name)
    url = build(route, name, world.cast.workspace.slug, ids.mine)
    page = owner.get(url)
    if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
        return
    models = model_fields(page)
    rendered = rendered_forms(page)
    html = page.content.decode()
    # POST forms write; GET forms filter a list, where a foreign id must not select another's rows.
    for method in ("post", "get"):
        for target, form in forms_by_target(html, url, method):
            send_foreign_ids(owner, ids, getattr(owner, method), target, form, models, rendered)


def send_foreign_ids(owner, ids, send, target: str, form: Form, models: dict, rendered: list) -> None:
    objects = {} if target in SKIPPED else object_fields(form, target, models)
    for field_name, label in objects.items():
        key = (target, field_name)
        assert label, f"{key}: tell tests/hostile/idor.py which model this field's ids name"
        assert label in SAMPLE_KEY, f"{key} names {label}: add it to SAMPLE_KEY and the sample objects"
        if key in REACHED or key in IGNORED:
            continue
        REACHED[key] = label
        source = form_class_of(form, field_name, rendered)
        if source:
            REACHED_CLASSES.add((source, bare(field_name)))
        item = next(f for f in form.fields if f.name == field_name)
        foreign = ids.theirs[SAMPLE_KEY[label]]
        for value in (foreign, MISSING_ID):
            for data in submissions(form, target, item, value, ids.mine, objects):
                before = references(label, foreign)
                response = send(form.action, data)
                case = (key, value, data)
                if target in PREVIEWS:
                    # Nothing to refuse: the foreign row must be left out like one that does not exist.
                    swapped = [str(MISSING_ID) if v == str(value) else v for v in data[field_name]]
                    made_up = send(form.action, {**data, field_name: swapped})
                    assert response.content == made_up.content, case
                else:
                    field_label = models.get(field_name, (0, None))[1]
                    assert_refused_on(owner, response, field_name, field_label, case)
                assert references(label, foreign) == before, (key, "a row now points at the foreign id")


def form_class_of(form: Form, field_name: str, rendered: list) -> str | None:
    """The Django form class an HTML form's field came from: of the rendered forms with that field, the
    one sharing the most fields with the HTML form (a page may hold two "assignee" fields)."""
    names = {item.name for item in form.fields}
    candidates = [f for f in rendered if field_name in {f.add_prefix(n) for n in f.fields}]
    best = max(candidates, key=lambda f: len(names & {f.add_prefix(n) for n in f.fields}), default=None)
    return class_name(type(best)) if best else None


def class_name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def declared_object_fields() -> set[tuple[str, str]]:
    """(module.Class, field) of every field of smmdesk's form classes (those the URL conf's views import)
    that names rows: a model choice field, or a choice field idor.py knows to hold ids. Fields a form adds
    in __init__ are not declared; the crawl finds those by the page."""

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {
        (class_name(cls), name)
        for cls in subclasses(django_forms.BaseForm)
        if cls.__module__.startswith("smmdesk.")
        for name, field in cls.base_fields.items()
        if isinstance(field, django_forms.ModelChoiceField)
        # The module as a path, for idor.py's per-section names ("smmdesk/ads/forms": an ads campaign).
        or (isinstance(field, django_forms.ChoiceField) and model_of(name, cls.__module__.replace(".", "/")))
    }


# Declared fields the crawl cannot reach, and why.
UNREACHED: dict[tuple[str, str], str] = {}


def test_every_form_field_naming_rows_was_sent():
    """Runs after the crawl above: the fields it must have reached, and every declared field of a form
    class that names rows among them, so a new one cannot go unchecked."""
    if len(CRAWLED) < len(WORKSPACE_ROUTES):
        pytest.skip("run with the whole crawl above (this checks what it reached)")
    print(f"{len(REACHED)} form fields naming rows sent foreign and made-up ids: {sorted(REACHED)}")
    expected = {
        *(
            ("inbox:handoff", "handoff-department"),
            ("inbox:assign", "assign-assignee"),
            ("inbox:bulk", "ids"),
        ),
        *(("publishing:post_new", "channels"), ("publishing:post_new", "v-media")),
        *(
            ("publishing:post_new", "campaign"),
            ("contests:new", "variant"),
            ("audience:segment_new", "services"),
        ),
        *(("ads:new_targeting", "segment"), ("keywords:move", "target"), ("inbox:list", "assignee")),
    }
    # A variant's fields carry its channel's id (v<id>-media), which differs between databases: on
    # PostgreSQL ids are not reused after a rolled-back test.
    reached = {(name, VARIANT_PREFIX.sub("v-", field)) for name, field in REACHED}
    assert expected <= reached, sorted(expected - reached)
    missing = declared_object_fields() - REACHED_CLASSES - set(UNREACHED)
    assert not missing, f"form fields naming rows that no page offered (extend the sample objects): {missing}"


def test_notice_ids_sent_by_script(owner, world):
    """The one id list no page's form holds: inbox.js posts the ids of the notices it showed. Another
    member's notice (here, in the other workspace) is not marked read; the view documents ignoring it."""
    from smmdesk.accounts.models import Membership
    from smmdesk.inbox.models import Notification

    theirs = Notification.objects.create(
        membership=Membership.objects.get(user=world.cast.outsider), kind="mention", text="@", key="k"
    )
    url = f"/w/{world.cast.workspace.slug}/inbox/notifications/read/"
    for body in ({"ids": [str(theirs.pk)]}, {"ids": [str(MISSING_ID)]}):
        response = owner.post(url, body)
        assert (response.status_code, response.json()) == (200, {"marked": 0}), body
    theirs.refresh_from_db()
    assert theirs.read_at is None
