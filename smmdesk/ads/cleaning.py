"""Input cleaning for the ads use cases: one Form collects every cleaned value and every (field,
message) error, so a refusal names all bad fields at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MONEY_MAX = Decimal("9999999999.99")


class AdsError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(AdsError):
    """Every problem with the submitted data, as (field, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = [(name, str(message)) for name, message in errors]
        super().__init__(self.errors[0][1], self.errors[0][0])


class NotAllowed(AdsError):
    """The member's role may not do this, or the object belongs to another workspace."""


class Form:
    """Collects cleaned values and every error, so one refusal names all bad fields."""

    def __init__(self, data):
        self.data = data if isinstance(data, dict) else {}
        self.errors: list[tuple[str, str]] = []
        self.cleaned: dict = {}

    def given(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def text(self, name: str, max_length: int, required: bool = False) -> None:
        value = self.data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors.append((name, _("Must be text.")))
            return
        value = value.strip()
        if required and not value:
            self.errors.append((name, _("This field is required.")))
        elif len(value) > max_length:
            self.errors.append((name, _("At most %(count)d characters.") % {"count": max_length}))
        else:
            self.cleaned[name] = value

    def money(self, name: str) -> None:
        value = self.data.get(name)
        if value is None or value == "":
            self.cleaned[name] = None
            return
        try:
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            self.errors.append((name, _("Must be a number.")))
            return
        if not amount.is_finite() or amount < 0 or amount > MONEY_MAX:
            self.errors.append((name, _("Must be between 0 and %(max)s.") % {"max": MONEY_MAX}))
        else:
            self.cleaned[name] = amount

    def radius(self, name: str) -> None:
        value = self.data.get(name)
        if value is None or value == "":
            self.cleaned[name] = None
            return
        try:
            radius = Decimal(str(value)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            self.errors.append((name, _("Must be a number.")))
            return
        if not radius.is_finite() or not Decimal("0.1") <= radius <= Decimal("9999.9"):
            self.errors.append((name, _("Must be between 0.1 and 9999.9 km.")))
        else:
            self.cleaned[name] = radius

    def choice(self, name: str, choices) -> None:
        value = self.data.get(name)
        allowed_values = [str(c) for c in choices]
        if value not in allowed_values:
            self.errors.append(
                (name, _("Choose one of: %(values)s.") % {"values": ", ".join(allowed_values)})
            )
        else:
            self.cleaned[name] = value

    def day(self, name: str) -> None:
        value = self.data.get(name)
        if value is None or value == "":
            self.cleaned[name] = None
        elif isinstance(value, date):
            self.cleaned[name] = value
        else:
            try:
                self.cleaned[name] = date.fromisoformat(str(value))
            except ValueError:
                self.errors.append((name, _("A date as YYYY-MM-DD.")))

    def row(self, name: str, model, workspace, **extra):
        """The workspace's object with the id `data[name]`; another workspace's id is "no such"."""
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            self.errors.append((name, _("Must be an id.")))
            return None
        found = model.objects.filter(pk=int(value), workspace=workspace, **extra).first()
        if found is None:
            self.errors.append((name, _("No such object in this workspace.")))
        return found

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)
