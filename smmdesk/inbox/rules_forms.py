"""Forms for routing rules and canned replies. Every choice is limited to the workspace's own rows,
whatever ids a request sends, and refused input names the field at fault."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from smmdesk.accounts.models import Membership
from smmdesk.business.fields import MAX_ID, ListField
from smmdesk.business.forms import TextSafetyMixin
from smmdesk.business.models import LANGUAGE_CHOICES, Department
from smmdesk.channels.models import Channel
from smmdesk.inbox.canned import VARIABLES
from smmdesk.inbox.models import CannedReply, Customer, Priority, RoutingRule, Sentiment

CONDITIONS = ("channel", "words", "sentiment", "language", "customer")
ACTIONS = ("set_department", "set_priority", "set_assignee", "add_tags")
LETTER = re.compile(r"[^\W\d_]")
PLACEHOLDER = re.compile(r"\{([^{}\n]{0,60})\}")


class WorkspaceChoiceField(forms.ModelChoiceField):
    """One of the workspace's rows by id; an absurd id is an invalid choice, not a database error."""

    def to_python(self, value):
        if value not in self.empty_values:
            try:
                number = int(str(value).strip())
            except ValueError:
                number = None
            if number is None or not 0 < number <= MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
                )
            value = number
        return super().to_python(value)


class MemberField(WorkspaceChoiceField):
    def label_from_instance(self, membership):
        return f"{membership.user} ({membership.get_role_display()})"


class RoutingRuleForm(TextSafetyMixin, forms.ModelForm):
    words = ListField(
        label=_("Words"),
        max_items=100,
        help_text=_(
            "One word or phrase per line or separated by commas. Any form matches: “жалоба” also finds "
            "“жалобу”, “sťažnosť” finds “sťažnosti”; a phrase needs all its words."
        ),
    )
    channel = WorkspaceChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("Any channel"),
        error_messages={"invalid_choice": _("Choose one of this workspace's channels.")},
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[("", _("Any sentiment")), *Sentiment.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *LANGUAGE_CHOICES]
    )
    customer = WorkspaceChoiceField(
        label=_("Customer number"),
        queryset=Customer.objects.none(),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("Only this customer's messages: the number on the customer's profile, e.g. 42."),
        error_messages={"invalid_choice": _("There is no customer with this number in this workspace.")},
    )
    set_department = WorkspaceChoiceField(
        label=_("Set department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Leave as it is"),
        error_messages={"invalid_choice": _("Choose one of this workspace's departments.")},
    )
    set_priority = forms.TypedChoiceField(
        label=_("Set priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Leave as it is")), *Priority.choices],
    )
    set_assignee = MemberField(
        label=_("Assign to"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("Nobody (round-robin in the department)"),
        error_messages={"invalid_choice": _("Choose a member of this workspace.")},
    )
    add_tags = ListField(
        label=_("Add tags"),
        max_items=20,
        max_item_length=50,
        help_text=_("One per line or separated by commas."),
    )

    class Meta:
        model = RoutingRule
        fields = ["name", "enabled", *CONDITIONS, *ACTIONS, "stop"]
        help_texts = {
            "stop": _("Later rules are not tried for a message this rule matched."),
            "enabled": _("A disabled rule is kept but not used."),
        }

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["channel"].queryset = Channel.objects.filter(workspace=workspace)
        self.fields["customer"].queryset = Customer.objects.filter(workspace=workspace)
        self.fields["set_department"].queryset = Department.objects.filter(workspace=workspace)
        self.fields["set_assignee"].queryset = (
            Membership.objects.filter(workspace=workspace)
            .select_related("user")
            .order_by("user__name", "user__email")
        )
        self.fields["enabled"].required = False
        self.fields["stop"].required = False

    # The page shows the fields in three groups: the rule itself, when it applies, what it does.
    def general_fields(self):
        return [self["name"], self["enabled"]]

    def condition_fields(self):
        return [self[name] for name in CONDITIONS]

    def action_fields(self):
        return [self[name] for name in (*ACTIONS, "stop")]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(self.fields["name"].error_messages["required"], code="required")
        return name

    def clean_words(self):
        words = self.cleaned_data["words"]
        blank = [word for word in words if not LETTER.search(word)]
        if blank:
            raise ValidationError(
                _("“%(word)s” has no letters, so it can never match; remove it."),
                params={"word": blank[0][:30]},
                code="no_letters",
            )
        return words

    def clean(self):
        data = super().clean()
        if not self.errors and not any(data.get(name) for name in CONDITIONS):
            # A rule that matches every message must not be made by leaving the form empty by mistake.
            self.add_error(
                "words",
                ValidationError(
                    _("Set at least one condition: words, channel, sentiment, language or customer."),
                    code="no_condition",
                ),
            )
        if not self.errors and not data.get("stop") and not any(data.get(n) for n in ACTIONS):
            self.add_error(
                "set_department",
                ValidationError(
                    _(
                        "Choose what the rule does: a department, priority, assignee or tags "
                        "(or tick “stop after this rule”)."
                    ),
                    code="no_action",
                ),
            )
        return data


class CannedReplyForm(TextSafetyMixin, forms.ModelForm):
    text = forms.CharField(
        label=_("Text"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Variables: {customer_name}, {business_name}, {opening_hours}"),
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *LANGUAGE_CHOICES]
    )

    class Meta:
        model = CannedReply
        fields = ["title", "text", "language"]

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise ValidationError(self.fields["title"].error_messages["required"], code="required")
        return title

    def clean_text(self):
        text = self.cleaned_data["text"]
        unknown = [name for name in PLACEHOLDER.findall(text) if name not in VARIABLES]
        if unknown:
            raise ValidationError(
                _("{%(name)s} is not a variable; use {customer_name}, {business_name} or {opening_hours}."),
                params={"name": unknown[0][:40]},
                code="unknown_variable",
            )
        return text
