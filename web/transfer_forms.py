"""The transfer forms of the web pages: ask, accept with a worker, decline with a reason."""

from django import forms
from django.utils.translation import gettext_lazy as _

from transfers import access


def _person(user):
    return user.get_full_name() or user.username


class TransferRequestForm(forms.Form):
    to_site = forms.ModelChoiceField(label=_("To site"), queryset=None, empty_label=None)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Where the client now lives or why they move; the receiving site reads it."),
    )
    client_requested = forms.BooleanField(
        label=_("The client asked for this transfer"),
        required=False,
        help_text=_("Needed when the client has not consented to sharing their data."),
    )

    def __init__(self, *args, user, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_site"].queryset = access.destination_sites(user, client).order_by("name")
        self.fields["to_site"].label_from_instance = lambda site: site.name


class TransferAcceptForm(forms.Form):
    assigned_social_worker = forms.ModelChoiceField(
        label=_("Social worker"), queryset=None, required=False, empty_label=_("Assign later")
    )

    def __init__(self, *args, transfer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_social_worker"].queryset = access.receiving_workers(transfer)
        self.fields["assigned_social_worker"].label_from_instance = _person


class TransferDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason for declining"), max_length=500)
