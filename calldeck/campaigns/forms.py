"""Forms of the campaign pages. They check the shape of the input; the services check the rules.

The campaign form is a plain ``Form`` built from the model's fields (labels, widgets and
field validators come from the model) rather than a ``ModelForm``, so that an edit
never touches the campaign before ``campaign_update`` has locked and validated it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from calldeck.accounts import access
from calldeck.accounts.models import Client, Team, User
from calldeck.campaigns import selectors
from calldeck.campaigns.models import (
    PREVIEW_FIELD_CHOICES,
    Campaign,
    CampaignStatus,
    RetryOutcome,
    Weekday,
)
from calldeck.campaigns.services import CAMPAIGN_FIELDS

STANDARD_SET_LABEL = _("A new copy of the standard outcomes")
ALL_STATUSES_BUT_ARCHIVED = _("All but archived")
ALL_CLIENTS = _("All clients")
WINDOW_HALF_EMPTY = _("Give both the start and the end of the window.")
ASSIGNEE_UNKNOWN = _("Choose a team or an agent from the list.")

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field if the form has one."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        form.add_error(target, errors)


class _ClientLabelled(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Options labelled "client · name" when the user works for several clients."""

    def __init__(self, *args: Any, show_client: bool = False, **kwargs: Any) -> None:
        self.show_client = show_client
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.client} · {obj}" if self.show_client else str(obj)


class CampaignForm(forms.Form):
    """Create (with a client) or edit (client fixed) a campaign's settings."""

    def __init__(
        self,
        *args: Any,
        user: User,
        campaign: Campaign | None = None,
        client: Client | None = None,
        **kwargs: Any,
    ) -> None:
        if campaign is not None:
            kwargs.setdefault("initial", model_to_dict(campaign, fields=CAMPAIGN_FIELDS))
        super().__init__(*args, **kwargs)
        self.user = user
        self.campaign = campaign
        fields = forms.fields_for_model(
            Campaign,
            fields=("client", *CAMPAIGN_FIELDS) if campaign is None else CAMPAIGN_FIELDS,
            widgets={
                "starts_on": DATE_WIDGET,
                "ends_on": DATE_WIDGET,
                "description": forms.Textarea(attrs={"rows": 3}),
            },
        )
        self.fields.update(fields)

        self.fields["preview_fields"] = forms.MultipleChoiceField(
            label=Campaign._meta.get_field("preview_fields").verbose_name,
            choices=PREVIEW_FIELD_CHOICES,
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        client_ids = access.client_ids_for(user)
        show_client = len(client_ids) > 1
        if campaign is not None:
            client_id: int | None = campaign.client_id
            show_client = False
        else:
            client_field = self.fields["client"]
            assert isinstance(client_field, forms.ModelChoiceField)
            client_field.queryset = Client.objects.filter(pk__in=client_ids, is_active=True)
            # Choosing the client reloads the form with that client's offers, scripts and
            # outcome sets only; without JavaScript the service refuses a mismatch instead.
            client_field.widget.attrs.update(
                {
                    "hx-get": reverse_lazy("calldeck-campaign-create"),
                    "hx-target": "#campaign-form",
                    "hx-select": "#campaign-form",
                    "hx-swap": "outerHTML",
                }
            )
            client_id = client.pk if client is not None else None
            if client_id is not None:
                self.fields["client"].initial = client_id
                show_client = False
        for name, choices, required, empty_label in (
            ("offer", selectors.offers_for_user(user, client_id=client_id), False, None),
            ("script", selectors.scripts_for_user(user, client_id=client_id), False, None),
            (
                "disposition_set",
                selectors.disposition_sets_for_user(user, client_id=client_id),
                campaign is not None,
                None if campaign is not None else STANDARD_SET_LABEL,
            ),
        ):
            old = self.fields[name]
            field = _ClientLabelled(
                queryset=choices,
                show_client=show_client,
                required=required,
                label=old.label,
                help_text=old.help_text,
            )
            if empty_label is not None:
                field.empty_label = str(empty_label)
            self.fields[name] = field

    def service_fields(self) -> dict[str, Any]:
        """The cleaned settings as the keyword arguments of the campaign services."""
        return {name: self.cleaned_data[name] for name in CAMPAIGN_FIELDS}


class CampaignFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [("", ALL_STATUSES_BUT_ARCHIVED), *CampaignStatus.choices]
        client_field = self.fields["client"]
        assert isinstance(client_field, forms.ModelChoiceField)
        client_field.queryset = Client.objects.filter(pk__in=access.client_ids_for(user))
        client_field.empty_label = str(ALL_CLIENTS)


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=CampaignStatus.choices)


def _time_text(value: dt.time) -> str:
    return f"{value:%H:%M:%S}" if value.second else f"{value:%H:%M}"


class CallingWindowsForm(forms.Form):
    """A weekday table: ``slots`` windows per weekday, each a start and an end time.

    A slot left empty is no window; there are always as many slots as the busiest
    weekday has windows, and at least two (morning and afternoon around the lunch break).
    """

    MIN_SLOTS = 2

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        windows = list(campaign.windows.all())
        per_day: dict[int, list[tuple[dt.time, dt.time]]] = {d: [] for d in Weekday.values}
        for window in windows:
            per_day[window.weekday].append((window.start, window.end))
        self.slots = max([self.MIN_SLOTS, *(len(v) for v in per_day.values())])
        initial: dict[str, str] = {}
        for weekday, spans in per_day.items():
            for i, (start, end) in enumerate(spans):
                initial[f"w{weekday}_{i}_start"] = _time_text(start)
                initial[f"w{weekday}_{i}_end"] = _time_text(end)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        widget = forms.TimeInput(attrs={"type": "time", "step": 1})
        for weekday in Weekday.values:
            for i in range(self.slots):
                for part, label in (("start", _("from")), ("end", _("until"))):
                    self.fields[f"w{weekday}_{i}_{part}"] = forms.TimeField(
                        label=label, required=False, widget=widget
                    )

    def rows(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        """(weekday label, [(start field, end field) per slot]) for the template."""
        return [
            (
                str(label),
                [
                    (self[f"w{weekday}_{i}_start"], self[f"w{weekday}_{i}_end"])
                    for i in range(self.slots)
                ],
            )
            for weekday, label in Weekday.choices
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        windows: list[tuple[int, dt.time, dt.time]] = []
        for weekday in Weekday.values:
            for i in range(self.slots):
                start = cleaned.get(f"w{weekday}_{i}_start")
                end = cleaned.get(f"w{weekday}_{i}_end")
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.add_error(f"w{weekday}_{i}_start", WINDOW_HALF_EMPTY)
                    continue
                windows.append((weekday, start, end))
        cleaned["windows"] = windows
        return cleaned


class RetryRulesForm(forms.Form):
    """Minutes before a lead is tried again, one field per outcome."""

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {rule.outcome: rule.delay_minutes for rule in campaign.retry_rules.all()}
        )
        super().__init__(*args, **kwargs)
        for outcome, label in RetryOutcome.choices:
            self.fields[outcome] = forms.IntegerField(
                label=label,
                min_value=1,
                widget=forms.NumberInput(attrs={"class": "num", "style": "width:7em"}),
            )

    def minutes_by_outcome(self) -> dict[str, int]:
        return {outcome: self.cleaned_data[outcome] for outcome in RetryOutcome.values}


class AssignmentForm(forms.Form):
    """One team or agent for one campaign and day, chosen in a single list."""

    day = forms.DateField(label=_("Day"), widget=forms.HiddenInput)
    assignee = forms.ChoiceField(label=_("Team or agent"))
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=1,
        max_value=99,
        initial=1,
        help_text=_("1 comes first."),
        widget=forms.NumberInput(attrs={"style": "width:5em"}),
    )
    daily_target = forms.IntegerField(
        label=_("Daily target (calls)"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"style": "width:6em"}),
    )

    def __init__(
        self,
        *args: Any,
        teams: list[Team],
        agents: list[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._teams = {str(team.pk): team for team in teams}
        self._agents = {str(agent.pk): agent for agent in agents}
        choices: list[Any] = [("", "---------")]
        if teams:
            choices.append((_("Teams"), [(f"team:{t.pk}", str(t)) for t in teams]))
        if agents:
            choices.append((_("Agents"), [(f"agent:{a.pk}", a.label) for a in agents]))
        assignee_field = self.fields["assignee"]
        assert isinstance(assignee_field, forms.ChoiceField)
        assignee_field.choices = choices

    def clean_assignee(self) -> dict[str, Any]:
        kind, _sep, pk = self.cleaned_data["assignee"].partition(":")
        if kind == "team" and pk in self._teams:
            return {"team": self._teams[pk], "agent": None}
        if kind == "agent" and pk in self._agents:
            return {"team": None, "agent": self._agents[pk]}
        raise ValidationError(ASSIGNEE_UNKNOWN, code="unknown")


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), required=False, widget=DATE_WIDGET)
