"""HTML forms of the case-management pages. The services validate; these forms parse."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import ClosureReason
from casework.models import DOMAIN_GROUPS, MAX_NOTE, SCORE_CHOICES, Domain, score_field


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def note_field(domain):
    return f"note_{domain}"


class AssessmentStepForm(forms.Form):
    """One screen of the assessment: the domains of group `step`; the answers of the screens
    before it travel along as hidden fields, so nothing is saved until the last screen."""

    assessed_on = forms.DateField(label=_("Date of the assessment"), widget=DateInput())

    def __init__(self, *args, step, reviewing, **kwargs):
        super().__init__(*args, **kwargs)
        self.step = step
        self.last = step == len(DOMAIN_GROUPS) - 1
        if step > 0:
            self.fields["assessed_on"].widget = forms.HiddenInput()
        for n, (_key, _label, domains) in enumerate(DOMAIN_GROUPS[: step + 1]):
            for domain in domains:
                hidden = n < step
                self.fields[score_field(domain)] = forms.TypedChoiceField(
                    label=Domain(domain).label,
                    choices=SCORE_CHOICES,
                    coerce=int,
                    widget=forms.HiddenInput() if hidden else forms.RadioSelect(attrs={"class": "btn-check"}),
                    error_messages={"required": _("Choose a score.")},
                )
                self.fields[note_field(domain)] = forms.CharField(
                    label=_("Note"),
                    required=False,
                    max_length=MAX_NOTE,
                    widget=forms.HiddenInput() if hidden else forms.Textarea(attrs={"rows": 2}),
                )
        if self.last and reviewing:
            self.fields["review_note"] = forms.CharField(
                label=_("Review note"),
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("What changed since the last assessment and what comes next; a supervisor signs it off."),
            )

    def visible_domains(self):
        """(score field, note field) of this screen's domains."""
        _key, _label, domains = DOMAIN_GROUPS[self.step]
        return [(self[score_field(d)], self[note_field(d)]) for d in domains]

    def service_data(self):
        data = self.cleaned_data
        domains = [d for _k, _l, group in DOMAIN_GROUPS for d in group]
        return {
            "assessed_on": data["assessed_on"],
            "scores": {d: data[score_field(d)] for d in domains},
            "notes": {d: data[note_field(d)] for d in domains if data.get(note_field(d))},
        }


class GoalForm(forms.Form):
    domain = forms.ChoiceField(label=_("Domain"), choices=Domain.choices)
    description = forms.CharField(label=_("Goal"), max_length=500)


class ActionForm(forms.Form):
    description = forms.CharField(label=_("Action"), max_length=500)
    owner = forms.ModelChoiceField(label=_("Who"), queryset=None)
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ClosureReason.choices)
    closed_on = forms.DateField(label=_("Closed on"), widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(forms.Form):
    note = forms.CharField(
        label=_("Why the case is reopened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
