"""Forms of the contest pages. They only read the shape of the input; the rules (which posts, which
times, which patterns) are inputs.clean's, the same for the pages and the API, and its refusals are put
back on the fields here."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smmdesk.business.fields import encodable_text
from smmdesk.contests import inputs, patterns
from smmdesk.contests.models import Contest
from smmdesk.publishing.scheduling import workspace_zone

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.TextInput):
    input_type = "datetime-local"


class SafeForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(encodable_text)

    def add_errors(self, errors: list[tuple[str, str]]) -> None:
        for field, message in errors:
            self.add_error(field if field in self.fields else None, message)


class ContestForm(SafeForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    variant = forms.ChoiceField(
        label=_("Published post"),
        required=False,
        help_text=_(
            "One of the workspace's published posts, or leave empty and type in a post made elsewhere."
        ),
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    post_external_id = forms.CharField(
        label=_("Post id on the network"),
        max_length=300,
        required=False,
        help_text=_("For a post made outside smmdesk: its id as the network gives it."),
    )
    post_url = forms.CharField(label=_("Post address"), max_length=500, required=False)
    require_comment = forms.BooleanField(label=_("Must comment"), required=False)
    require_repost = forms.BooleanField(label=_("Must repost"), required=False)
    require_like = forms.BooleanField(label=_("Must like"), required=False)
    require_member = forms.BooleanField(label=_("Must be a member or subscriber"), required=False)
    comment_pattern = forms.CharField(
        label=_("Comment must contain"),
        max_length=patterns.MAX_PATTERN,
        required=False,
        help_text=_("Plain text (case does not matter), or a regular expression if ticked below."),
    )
    pattern_is_regex = forms.BooleanField(label=_("The pattern is a regular expression"), required=False)
    opens_at = forms.CharField(label=_("Opens at"), widget=LocalDateTimeInput)
    closes_at = forms.CharField(label=_("Closes at"), widget=LocalDateTimeInput)
    winners_count = forms.IntegerField(
        label=_("Number of winners"), min_value=1, max_value=inputs.MAX_WINNERS
    )
    staff_accounts = forms.CharField(
        label=_("Staff accounts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Network ids or handles that may not win, one per line. The channel's own account is added."
        ),
    )
    exclude_winners_days = forms.IntegerField(
        label=_("Exclude winners of the last days"),
        min_value=0,
        max_value=inputs.MAX_DAYS,
        initial=0,
        help_text=_("Who won one of this workspace's contests within this many days may not win. 0: off."),
    )
    pseudonymisation = forms.ChoiceField(
        label=_("The public list shows"),
        choices=Contest.Pseudonymisation.choices,
        widget=forms.RadioSelect,
        initial=Contest.Pseudonymisation.INITIALS,
    )

    def __init__(self, workspace, contest: Contest | None = None, *args, **kwargs):
        self.workspace, self.contest = workspace, contest
        if contest is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(contest)
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [("", _("A post made outside smmdesk"))] + [
            (
                str(v.pk),
                f"{v.channel.name}: {v.post} ({v.published_at:%d.%m.%Y})" if v.published_at else str(v.post),
            )
            for v in inputs.published_variants(workspace)
        ]
        self.fields["channel"].choices = [("", "—")] + [
            (str(c.pk), c.name) for c in inputs.entry_channels(workspace)
        ]
        if contest is None:
            self.initial.setdefault("require_comment", True)
            self.initial.setdefault("winners_count", 1)
        else:
            editable = inputs.EDITABLE[contest.status]
            if editable is not None:
                if contest.public_value:
                    editable = editable - {"winners_count"}
                for name in list(self.fields):
                    if name not in editable:
                        del self.fields[name]

    def data_for_action(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name in self.fields}
        if "variant" in data and not data["variant"]:
            data["variant"] = None
        return data


def initial_for(contest: Contest) -> dict:
    zone = workspace_zone(contest.workspace)
    return {
        **{
            name: getattr(contest, name)
            for name in (
                "title",
                "post_external_id",
                "post_url",
                "require_comment",
                "require_repost",
                "require_like",
                "require_member",
                "comment_pattern",
                "pattern_is_regex",
                "winners_count",
                "exclude_winners_days",
                "pseudonymisation",
            )
        },
        "variant": str(contest.variant_id or ""),
        "channel": str(contest.channel_id or ""),
        "opens_at": contest.opens_at.astimezone(zone).strftime(LOCAL_FORMAT),
        "closes_at": contest.closes_at.astimezone(zone).strftime(LOCAL_FORMAT),
        "staff_accounts": "\n".join(contest.staff_accounts or []),
    }


class PublicValueForm(SafeForm):
    public_value = forms.CharField(
        label=_("Public value"),
        max_length=200,
        help_text=_(
            "A value nobody could know when the contest closed: e.g. a lottery draw's numbers or the hash "
            "of a future Bitcoin block. It cannot be changed once recorded."
        ),
    )
    public_value_source = forms.CharField(
        label=_("Where it comes from"),
        max_length=200,
        required=False,
        help_text=_("So anyone can look it up, e.g. “Russian Lotto draw 1620, 2026-11-29”."),
    )


class DisqualifyForm(SafeForm):
    reason = forms.CharField(label=_("Reason"), max_length=500)
