"""The POST forms of a page, read from its HTML as a browser would submit them, and the hostile versions
of each (every text field poisoned one way at a time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from tests.corpus import strings

TEXT_TYPES = {"text", "search", "email", "url", "tel", "password", ""}
NUMBER_TYPES = {"number", "range"}
DATE_TYPES = {"date", "datetime-local", "time", "month", "week"}


@dataclass
class Field:
    name: str
    kind: str  # an input type, "textarea" or "select"
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str  # a path
    multipart: bool
    fields: list[Field] = field(default_factory=list)

    @property
    def signature(self) -> tuple:
        return (self.action, tuple(sorted({f.name for f in self.fields})))

    def data(self, override=None) -> dict[str, list[str]]:
        """What a browser sends, with `override(field)` returning a replacement value (or None)."""
        data: dict[str, list[str]] = {}
        for item in self.fields:
            if item.kind in ("checkbox", "radio") and not item.checked:
                continue
            if item.kind in ("file", "submit", "button", "reset", "image"):
                continue
            value = override(item) if override else None
            if value is None:
                value = item.value if item.kind != "select" else _selected(item)
            data.setdefault(item.name, []).append(value)
        return data


def _selected(item: Field) -> str:
    return item.value or (item.options[0] if item.options else "")


class _Parser(HTMLParser):
    def __init__(self, page: str, method: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.method = method
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._twins: list[Form] = []  # the forms sharing the open <form>'s fields
        self._textarea: Field | None = None
        self._select: Field | None = None
        self._by_id: dict[str, list[Form]] = {}  # the forms of a <form id>, for fields outside it
        self._owner: str | None = None  # the form="…" of the field being read, if it has one
        self.outside: list[tuple[str, Field]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            # A form may post twice over: htmx on every change (a live preview), the browser on submit.
            targets = [a["hx-post"]] if a.get("hx-post") and self.method == "post" else []
            if (a.get("method") or "get").lower() == self.method:
                targets.append(a.get("action") or self.page)
            self._form = None
            self._by_id[a.get("id", "")] = self._twins = []
            for target in targets:
                form = Form(
                    urlsplit(urljoin(self.page, target)).path, a.get("enctype") == "multipart/form-data"
                )
                self._form = self._form or form
                self._twins.append(form)
                self.forms.append(form)
            return
        if tag in ("button", "input") and self._form is not None and a.get("formaction"):
            # A button that posts the same fields elsewhere (the cluster page's "move" beside "split").
            form = Form(urlsplit(urljoin(self.page, a["formaction"])).path, self._form.multipart)
            form.fields = list(self._form.fields)
            self._twins.append(form)
            self.forms.append(form)
        if tag == "button" and self._form is None and a.get("hx-post") and self.method == "post":
            # A lone htmx button posts its own address with no fields.
            self.forms.append(Form(urlsplit(urljoin(self.page, a["hx-post"])).path, False))
            return
        # A field may sit outside its form and name it (form="…"): a table's row checkboxes for a bulk form.
        self._owner = a.get("form") if tag in ("input", "textarea", "select") else self._owner
        if self._form is None and not self._owner:
            return
        if tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a:
                self._select.value = value
        if not a.get("name"):
            return  # an <option> has none, and an unnamed field is not sent
        if tag == "input":
            kind = a.get("type", "").lower()
            self._add(Field(a["name"], kind, a.get("value", ""), "checked" in a))
        elif tag == "textarea":
            self._textarea = self._add(Field(a["name"], "textarea"))
        elif tag == "select":
            self._select = self._add(Field(a["name"], "select"))

    def _add(self, item: Field) -> Field:
        if self._owner:
            self.outside.append((self._owner, item))
            return item
        for form in self._twins:
            form.fields.append(item)
        return item

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form, self._twins = None, []
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def post_forms(html: str, page: str, method: str = "post") -> list[Form]:
    """The page's forms sent with `method`: POST ones (and htmx posts), or GET ones (filters)."""
    parser = _Parser(page, method)
    parser.feed(html)
    for form_id, item in parser.outside:
        for form in parser._by_id.get(form_id, []):
            form.fields.append(item)
    return parser.forms


def forms_by_target(html: str, page: str, method: str = "post") -> list[tuple[str, Form]]:
    """(the URL name a form is sent to, the form) for the page's forms that are sent inside the URL conf."""
    from django.urls import Resolver404, resolve

    found = []
    for form in post_forms(html, page, method):
        try:
            match = resolve(form.action)
        except Resolver404:
            continue
        found.append((f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name, form))
    return found


def _is_text(item: Field) -> bool:
    return item.kind in TEXT_TYPES or item.kind == "textarea"


UNICODE_MIX = strings.RTL_OVERRIDE + strings.EMOJI_ZWJ + strings.COMBINING[:40] + strings.BOMS
# One poisoning at a time: (name, the replacement for a field, or None to keep what the page had).
POISONS = {
    "nul": lambda f: strings.NUL if _is_text(f) or f.kind in ("hidden", "select") else None,
    "huge": lambda f: strings.HUGE if _is_text(f) else None,
    "unicode_and_formula": lambda f: UNICODE_MIX + strings.FORMULAS[0] if _is_text(f) else None,
    "numbers_and_dates": lambda f: (
        strings.NUMBERS[0] if f.kind in NUMBER_TYPES else "99999-01-01" if f.kind in DATE_TYPES else None
    ),
}
