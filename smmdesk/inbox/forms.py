"""Forms of the inbox pages: the list's filters, the bulk bar, and the conversation's action forms.

Choices that name rows (channels, departments, members, conversations) are built from the workspace, so a
value from another workspace is refused as an invalid choice naming the field, never looked up."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.business.models import Department
from smmdesk.channels.models import Channel
from smmdesk.inbox.models import Conversation, Priority, Sentiment, Status
from smmdesk.inbox.queries import SORTS, Cursor, Filters
from smmdesk.lib.widgets import PlainSelect

ANY = [("", _("Any"))]


def member_label(membership: Membership) -> str:
    return str(membership.user)


def members_of(workspace: Workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__name", "pk")


class RowChoiceField(forms.TypedChoiceField):
    """A choice among fixed values and the workspace's rows, whose rows are read only when they are needed:
    to show the form, or to check a value that is not a fixed one. The list's live-update poll checks its
    filters every second for everyone who has the inbox open, nearly always with empty or fixed values."""

    def __init__(self, *, fixed=(), **kwargs):
        super().__init__(widget=PlainSelect, **kwargs)
        self.fixed = list(fixed)

    def set_rows(self, rows: Callable[[], list[tuple]]) -> None:
        read: list[list] = []

        def choices():
            if not read:
                read.append(ANY + self.fixed + list(rows()))
            return read[0]

        self.choices = choices

    def valid_value(self, value):
        return any(str(value) == str(key) for key, _label in self.fixed) or super().valid_value(value)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("active", _("Not resolved")), ("all", _("All"))] + list(Status.choices),
        widget=PlainSelect,
    )
    channel = RowChoiceField(label=_("Channel"), required=False, coerce=int, empty_value=None)
    department = RowChoiceField(
        label=_("Department"),
        required=False,
        fixed=[("mine", _("My departments' queue")), ("none", _("No department"))],
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=ANY + list(Sentiment.choices), widget=PlainSelect
    )
    risk = forms.ChoiceField(
        label=_("SLA risk"),
        required=False,
        choices=ANY + [("ok", _("On time")), ("warning", _("At risk")), ("breached", _("Overdue"))],
        widget=PlainSelect,
    )
    assignee = RowChoiceField(
        label=_("Assignee"), required=False, fixed=[("me", _("Me")), ("none", _("Nobody"))]
    )
    language = RowChoiceField(label=_("Language"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("urgency", _("SLA urgency")), ("recent", _("Latest activity"))],
        widget=PlainSelect,
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)

    def __init__(self, data, *, workspace: Workspace, membership: Membership):
        super().__init__(data)
        self.fields["channel"].set_rows(
            lambda: Channel.objects.filter(workspace=workspace).values_list("pk", "name")
        )
        self.fields["department"].set_rows(
            lambda: [
                (str(pk), name)
                for pk, name in Department.objects.filter(workspace=workspace).values_list("pk", "name")
            ]
        )
        # Labels as member_label gives them (the user's name, else e-mail), without a model per member.
        self.fields["assignee"].set_rows(
            lambda: [
                (str(pk), name or email)
                for pk, name, email in Membership.objects.filter(workspace=workspace)
                .order_by("user__name", "pk")
                .values_list("pk", "user__name", "user__email")
            ]
        )

        def languages():
            profile = getattr(workspace, "profile", None)
            return [(code, code) for code in (profile.languages if profile is not None else [])]

        self.fields["language"].set_rows(languages)

    def clean_after(self):
        value = self.cleaned_data["after"]
        if not value:
            return None
        try:
            return Cursor.decode(value)
        except ValueError:
            raise forms.ValidationError(_("This is not a page of this list."))

    def filters(self) -> Filters:
        """The valid filters; a field with an error is left out (and its error shown)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        values = {
            name: data.get(name)
            for name in ("status", "channel", "department", "sentiment", "risk", "assignee", "language", "q")
            if data.get(name) not in (None, "")
        }
        if data.get("sort") in SORTS:
            values["sort"] = data["sort"]
        return Filters(**values)

    def cursor(self) -> Cursor | None:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return data.get("after")


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 5, "data-shortcut": "r"}), strip=True
    )

    def __init__(self, *args, max_length: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if max_length:
            # No maxlength attribute: a pasted text stays whole and the counter shows how much to cut.
            self.fields["text"].validators.append(MaxLengthValidator(max_length))
            self.fields["text"].widget.attrs["data-max-length"] = str(max_length)

    def clean_text(self):
        # Browsers send line breaks as CRLF; the network and the counter count one character each.
        return self.cleaned_data["text"].replace("\r\n", "\n")


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only your team sees it. Mention someone with @ and their name or e-mail."),
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        widget=PlainSelect(attrs={"data-shortcut": "a"}),
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members_of(workspace)
        self.fields["assignee"].label_from_instance = member_label


STATUS_BUTTONS = [
    (Status.RESOLVED, _("Resolve")),
    (Status.WAITING_CUSTOMER, _("Waiting on customer")),
    (Status.CLOSED, _("Close")),
    (Status.OPEN, _("Reopen")),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, widget=PlainSelect
    )


class HandOffForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        widget=PlainSelect(attrs={"data-shortcut": "h"}),
    )
    note = forms.CharField(
        label=_("Note for the department"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What they need to know or do. The customer does not see it."),
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(workspace=workspace)


class AnswerForm(forms.Form):
    text = forms.CharField(label=_("The department's answer"), widget=forms.Textarea(attrs={"rows": 3}))


class ModerateForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[("hide", _("Hide")), ("delete", _("Delete"))], widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, help_text=_("Kept in the audit log."))


BULK_ACTIONS = [("resolve", _("Resolve")), ("assign", _("Assign to")), ("status", _("Set status"))]


class BulkForm(forms.Form):
    ids = forms.ModelMultipleChoiceField(
        label=_("Conversations"),
        queryset=Conversation.objects.none(),
        error_messages={"required": _("Select at least one conversation.")},
    )
    action = forms.ChoiceField(label=_("Action"), choices=BULK_ACTIONS)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=Membership.objects.none(), required=False, empty_label=_("Nobody")
    )
    status = forms.ChoiceField(label=_("Status"), choices=[("", "—")] + list(Status.choices), required=False)

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = Conversation.objects.filter(workspace=workspace)
        self.fields["assignee"].queryset = members_of(workspace)
        self.fields["assignee"].label_from_instance = member_label

    def clean(self):
        data = super().clean()
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", _("Choose the status to set."))
        return data
