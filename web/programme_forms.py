"""HTML forms of the empowerment pages. Choices come from empowerment.access, so a form
offers exactly what the API would accept from the same user; the services validate."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from empowerment import access
from empowerment.models import ECONOMIC_KINDS, MAX_OTHERS, Enrolment, Programme

from .forms import DATE

YES_NO_UNKNOWN = forms.Select(choices=[("unknown", _("Not known")), ("true", _("Yes")), ("false", _("No"))])


class ClientChoice(forms.ModelChoiceField):
    """Clients by code and nickname: enough to recognise someone in the group."""

    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.nickname}" if obj.nickname else obj.code


class ClientChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.nickname or obj.full_name} ({obj.code})"


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = ("site", "kind", "name", "start_date", "end_date", "facilitator", "partner", "support_group")
        widgets = {"start_date": DATE, "end_date": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = access.facilitator_candidates(user).order_by("username")
        self.fields["support_group"].queryset = access.support_groups_for_programmes(user).order_by("name")
        if self.instance.pk or user.site_id:
            del self.fields["site"]  # one's own site, or the programme's: not a choice
        else:
            self.fields["site"].queryset = access.programme_sites_for(user)
        if not self.instance.pk:
            self.fields["start_date"].initial = timezone.localdate()

    def _post_clean(self):
        pass  # empowerment.services validates the programme


class SessionForm(forms.Form):
    """A session and its attendance: tap the enrolled clients who came, count the others."""

    date = forms.DateField(label=_("Date"), widget=DATE)
    topic = forms.CharField(label=_("Topic"), max_length=200)
    attendees = ClientChoices(
        label=_("Enrolled clients who came"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    others_family = forms.IntegerField(label=_("Family members"), min_value=0, max_value=MAX_OTHERS, initial=0)
    others_community = forms.IntegerField(label=_("Community members"), min_value=0, max_value=MAX_OTHERS, initial=0)
    others_health_workers = forms.IntegerField(label=_("Health workers"), min_value=0, max_value=MAX_OTHERS, initial=0)

    def __init__(self, *args, user, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = access.roster_for(user, programme).order_by("nickname", "code")
        for name in ("others_family", "others_community", "others_health_workers"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "class": "others-count"})
        self.fields["date"].initial = timezone.localdate()

    def service_data(self):
        data = dict(self.cleaned_data)
        data["others"] = {k: data.pop(f"others_{k}") for k in ("family", "community", "health_workers")}
        data["attendees"] = list(data["attendees"])
        return data


def _tri_state(value):
    return {"true": True, "false": False}.get(value)


class EnrolmentForm(forms.ModelForm):
    class Meta:
        model = Enrolment
        fields = ("client", "enrolled_on", "income_before")
        field_classes = {"client": ClientChoice}
        widgets = {"enrolled_on": DATE}

    def __init__(self, *args, user, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = (
            access.clients_enrollable_by(user)
            .filter(site_id=programme.site_id)
            .exclude(enrolments__programme=programme)
            .order_by("code")
        )
        self.fields["enrolled_on"].initial = timezone.localdate()
        if programme.kind not in ECONOMIC_KINDS:
            del self.fields["income_before"]

    def _post_clean(self):
        pass  # empowerment.services validates the enrolment


class OutcomeForm(forms.ModelForm):
    business_started = forms.TypedChoiceField(
        label=_("Business started"), choices=YES_NO_UNKNOWN.choices, coerce=_tri_state, empty_value=None
    )
    employed = forms.TypedChoiceField(
        label=_("Employed"), choices=YES_NO_UNKNOWN.choices, coerce=_tri_state, empty_value=None
    )

    class Meta:
        model = Enrolment
        fields = ("outcome", "outcome_on", "business_started", "income_before", "income_after", "employed")
        widgets = {"outcome_on": DATE}

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("business_started", "employed"):
            value = getattr(self.instance, name)
            self.initial[name] = "unknown" if value is None else str(value).lower()
        if programme.kind not in ECONOMIC_KINDS:
            for name in ("business_started", "income_before", "income_after", "employed"):
                del self.fields[name]
        if not self.instance.outcome_on:
            self.initial["outcome_on"] = timezone.localdate()

    def _post_clean(self):
        pass  # empowerment.services validates the outcome
