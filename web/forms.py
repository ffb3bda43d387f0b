"""HTML forms. Their fields and choices come from the policy modules, never from a role
check here: a form offers exactly what the API would accept from the same user."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cases import access, importing
from cases.models import Client, ClientStatus, OutcomeStatus, Refill, Role
from cases.selectors import ArvState
from outreach import access as outreach_access
from outreach.models import HomeVisit, Incident, VisitKind
from referrals import access as referral_access
from referrals.models import Referral, ReferralStatus

from .labels import label_form_fields

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def apply_service_errors(form, error: ValidationError):
    """Put a service's ValidationError on the form: each message at its field when the form
    shows that field, the rest at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class BreakGlassForm(forms.Form):
    """Emergency access to a client of one's site outside one's reach (SPEC §7)."""

    code = forms.CharField(label=_("Client code"), max_length=20, help_text=_("For example TTE-2026-0042."))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your supervisors are told at once and review every emergency access."),
    )


class ClientSearchForm(forms.Form):
    """The list's search and filters (the same names as the API's ClientFilter)."""

    q = forms.CharField(label=_("Search code or name"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ClientStatus.choices]
    )
    arv_state = forms.ChoiceField(
        label=_("ARV state"),
        required=False,
        choices=[
            ("", _("All ARV states")),
            (ArvState.ON_TIME, _("On time")),
            (ArvState.DUE, _("Due soon")),
            (ArvState.LATE, _("Late")),
            (ArvState.LTFU, _("Lost to follow-up")),
        ],
    )


# Fields of a client that no form edits (generated, computed or the lock counter).
_NOT_FORM_FIELDS = {"id", "code", "version", "possible_duplicate"}
_DATE_FIELDS = ("date_of_birth", "hiv_diagnosis_date", "art_start_date", "consent_date", "consent_withdrawn_on")


def client_form_class(user, client=None):
    """A ModelForm whose fields are exactly what `user` may write on `client` (or on a new one)."""
    fields = [f for f in access.client_writable_fields(user, client) if f not in _NOT_FORM_FIELDS]
    return forms.modelform_factory(
        Client,
        form=ClientForm,
        fields=fields,
        widgets={name: DATE for name in _DATE_FIELDS if name in fields},
    )


class ClientForm(forms.ModelForm):
    # The version read when the form was shown: a save over someone else's change is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        label_form_fields(self)
        self.user = user
        scoped = {
            "site": access.sites_visible_to(user),
            "art_facility": access.facilities_visible_to(user),
            "support_groups": access.support_groups_visible_to(user),
            "assigned_social_worker": access.users_visible_to(user).filter(role=Role.SOCIAL_WORKER, is_active=True),
            "companion": access.users_visible_to(user).filter(role=Role.VOLUNTEER, is_active=True),
        }
        for name, queryset in scoped.items():
            if name in self.fields:
                self.fields[name].queryset = queryset
        if "site" in self.fields and user.site_id is not None:
            # Like the API: a client is registered at the user's own site unless told otherwise.
            self.fields["site"].required = False
            self.fields["site"].initial = user.site_id
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def _post_clean(self):
        # The services validate the model (with the policy's field errors); validating here
        # too would report the same message twice or judge half-built rows.
        pass

    def service_fields(self):
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        if "site" in data and data["site"] is None:
            data["site"] = self.user.site
        if "support_groups" in data:
            data["support_groups"] = list(data["support_groups"])
        return data


class VisitForm(forms.ModelForm):
    class Meta:
        model = HomeVisit
        fields = (
            "kind",
            "visited_at",
            "missed_doses_7d",
            "pills_left",
            "health_complaints",
            "psychosocial",
            "family_support",
            "economic_situation",
            "services_provided",
            "needs",
            "plan",
            "next_visit_date",
        )
        widgets = {
            "visited_at": DATETIME,
            "next_visit_date": DATE,
            **{
                name: forms.Textarea(attrs={"rows": 2})
                for name in (
                    "health_complaints",
                    "psychosocial",
                    "family_support",
                    "economic_situation",
                    "services_provided",
                    "needs",
                    "plan",
                )
            },
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = outreach_access.visit_kinds_allowed(user)
        self.fields["kind"].choices = [(v, label) for v, label in VisitKind.choices if v in allowed]
        self.fields["visited_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def _post_clean(self):
        pass  # outreach.services.visit_record validates the visit


class RefillForm(forms.ModelForm):
    class Meta:
        model = Refill
        fields = ("facility", "pickup_date", "days_supplied", "missed_doses")
        widgets = {"pickup_date": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = access.facilities_visible_to(user)
        self.fields["pickup_date"].initial = timezone.localdate()

    def _post_clean(self):
        pass  # cases.arv.services.refill_record validates the refill


class StatusForm(forms.Form):
    """A dated outcome (SPEC §12.1): died, transferred out, stopped, or resumed care."""

    status = forms.ChoiceField(label=_("New status"), choices=OutcomeStatus.choices)
    effective_date = forms.DateField(
        label=_("Effective date"), widget=DATE, help_text=_("The day it happened, not the day you record it.")
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who reported it, where the client went, or why care stopped or resumed."),
    )

    def __init__(self, *args, user, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].initial = timezone.localdate(timezone=client.site.tzinfo)


class AssignForm(forms.Form):
    social_worker = forms.ModelChoiceField(label=_("Social worker"), queryset=None)

    def __init__(self, *args, user, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["social_worker"].queryset = (
            access.users_visible_to(user)
            .filter(role=Role.SOCIAL_WORKER, site_id=client.site_id, is_active=True)
            .order_by("username")
        )
        self.fields["social_worker"].initial = client.assigned_social_worker_id
        self.fields["social_worker"].label_from_instance = lambda u: u.get_full_name() or u.username


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = ("kind", "urgency", "client", "reporter_name", "reporter_phone", "location", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"client": _("Client (optional)")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = access.clients_visible_to(user).only("id", "code", "nickname")
        self.fields["client"].label_from_instance = lambda c: f"{c.code} · {c.nickname}" if c.nickname else c.code
        if user.site_id is None:
            self.fields["site"] = forms.ModelChoiceField(label=_("Site"), queryset=access.sites_visible_to(user))

    def _post_clean(self):
        pass  # outreach.services.incident_report validates the incident


class IncidentActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("acknowledge", "respond", "resolve", "close", "cancel")])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=4000)


# --- referrals ------------------------------------------------------------------------------------


class ReferralFilterForm(forms.Form):
    """The referral boxes' filters (the same names as the API's ReferralFilter)."""

    box = forms.ChoiceField(
        label=_("Box"),
        required=False,
        choices=[("outbox", _("Sent or drafted by me")), ("all", _("All referrals of my clients"))],
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ReferralStatus.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class ReferralForm(forms.ModelForm):
    """A new draft: the client, the facility and the service are the policy's choices."""

    class Meta:
        model = Referral
        fields = ("client", "to_facility", "service", "reason", "urgency", "due_date")
        widgets = {"due_date": DATE, "reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, client=None, **kwargs):
        super().__init__(*args, **kwargs)
        clients = referral_access.clients_referable_by(user).only("id", "code", "nickname").order_by("code")
        self.fields["client"].queryset = clients
        self.fields["client"].label_from_instance = lambda c: f"{c.code} · {c.nickname}" if c.nickname else c.code
        if client is not None:
            # Chosen on the client's page: kept, not offered again.
            self.fields["client"].queryset = clients.filter(pk=client.pk)
            self.fields["client"].initial = client.pk
            self.fields["client"].widget = forms.HiddenInput()
        facilities = referral_access.facilities_referable_by(user).order_by("name")
        self.fields["to_facility"].queryset = facilities
        # Choosing a facility fetches the service list it offers (htmx, services_fragment).
        self.fields["to_facility"].widget.attrs.update(
            {
                "hx-get": reverse("referral-services"),
                "hx-trigger": "change",
                "hx-target": "#service-field",
                "hx-swap": "outerHTML",
                "hx-include": "#id_service",
            }
        )
        self.limit_services(facilities)

    def limit_services(self, facilities):
        """Offer only the services of the chosen facility (all of them until one is chosen,
        and for a facility that lists none): what referrals.services would accept."""
        chosen = self.data.get("to_facility") if self.is_bound else self.initial.get("to_facility")
        if not str(chosen or "").isdigit() or len(str(chosen)) > 18:
            return
        facility = facilities.filter(pk=int(chosen)).only("name", "services").first()
        if facility is None or not facility.services:
            return
        # Only the list shown: validation stays with referrals.services, which says why.
        widget = self.fields["service"].widget
        widget.choices = [(code, label) for code, label in widget.choices if code == "" or code in facility.services]

    def _post_clean(self):
        pass  # referrals.services.referral_create validates the referral


class ReferralNoteForm(forms.Form):
    """Send or accept: an optional note for the referral's history."""

    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferralReasonForm(ReferralNoteForm):
    """Decline or cancel: a reason is required."""

    reason = forms.CharField(label=_("Reason"), max_length=2000)

    field_order = ("reason", "note")


class ReferralCompleteForm(ReferralNoteForm):
    """Close an accepted referral: what happened, and whether the service was given."""

    result = forms.ChoiceField(
        label=_("Result"),
        choices=[
            (ReferralStatus.COMPLETED, _("Service given (completed)")),
            (ReferralStatus.NOT_COMPLETED, _("Not completed")),
        ],
        initial=ReferralStatus.COMPLETED,
        widget=forms.RadioSelect,
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ("result", "outcome", "note")


REFERRAL_ACTION_FORMS = {
    "send": ReferralNoteForm,
    "accept": ReferralNoteForm,
    "decline": ReferralReasonForm,
    "complete": ReferralCompleteForm,
    "cancel": ReferralReasonForm,
}


# --- client imports -------------------------------------------------------------------------------


class ClientImportUploadForm(forms.Form):
    """A client list to import: the file, its sheet, and the site when the user has a choice."""

    file = forms.FileField(
        label=_("File (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        help_text=_("Up to 5000 clients and 5 MB. The row with the column names is found by itself."),
    )
    sheet = forms.CharField(
        label=_("Sheet (XLSX only, optional)"),
        required=False,
        max_length=100,
        help_text=_("Leave empty to read the first sheet."),
    )

    def __init__(self, *args, user, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.too_large = too_large  # the request was over the upload limit: it kept no file
        sites = access.sites_visible_to(user).order_by("code")
        if user.site_id is None or sites.count() > 1:
            self.fields["site"] = forms.ModelChoiceField(label=_("Site"), queryset=sites, initial=user.site_id)
            self.order_fields(["site", "file", "sheet"])

    def full_clean(self):
        super().full_clean()
        if self.too_large and self.is_bound:
            self._errors.pop("file", None)
            self.add_error("file", self._too_large())

    def _too_large(self):
        return ValidationError(
            _("The file is larger than %(mb)s MB: split it into smaller files.")
            % {"mb": importing.MAX_FILE_BYTES // 2**20}
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # The service checks the content itself.
        if upload.size > importing.MAX_FILE_BYTES:
            raise self._too_large()
        return upload

    def site(self):
        return self.cleaned_data.get("site") or self.user.site

    def content(self):
        return b"".join(self.cleaned_data["file"].chunks())


class ClientImportReviewForm(forms.Form):
    """The reviewer's choices: a client field per column, what to do with duplicates, and
    the consent date of rows without one."""

    skip_duplicates = forms.TypedChoiceField(
        label=_("Rows that look like duplicates"),
        choices=[("1", _("Skip them")), ("0", _("Import them, flagged as possible duplicates"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    consent_date = forms.DateField(
        label=_("Consent date for rows without one"),
        required=False,
        widget=DATE,
        help_text=_("Only if every client on the list consented to the programme on this day."),
    )

    def __init__(self, *args, table, client_import, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore this column —")), *((f.name, capfirst(f.label)) for f in importing.FIELDS)]
        self.columns = []
        for index in range(len(table.headers)):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=table.column_label(index),
                choices=choices,
                required=False,
                initial=client_import.mapping.get(str(index), ""),
            )
            self.columns.append(name)
        self.fields["skip_duplicates"].initial = "1" if client_import.skip_duplicates else "0"
        self.fields["consent_date"].initial = client_import.consent_date

    def clean(self):
        cleaned = super().clean()
        by_field = {}
        for name in self.columns:
            if cleaned.get(name):
                by_field.setdefault(cleaned[name], []).append(name)
        for field, columns in by_field.items():
            if len(columns) > 1:
                label = capfirst(importing.FIELDS_BY_NAME[field].label)
                for name in columns:
                    self.add_error(name, _("Only one column can be %(field)s.") % {"field": label})
        return cleaned

    def column_fields(self):
        return [self[name] for name in self.columns]

    def mapping(self):
        return {index: self.cleaned_data[name] for index, name in enumerate(self.columns) if self.cleaned_data[name]}
