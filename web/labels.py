"""Labels of model fields the models leave to Django (which makes them up, in English, from
the field's name): the pages show these instead, in the user's language.

When those models next get a migration, these belong on the fields as `verbose_name`.
"""

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cases.models import Client
from referrals.models import Referral

FIELD_LABELS = {
    (Client, "site"): _("site"),
    (Client, "assigned_social_worker"): _("assigned social worker"),
    (Client, "companion"): _("companion"),
    (Client, "support_groups"): _("support groups"),
    (Client, "created_at"): _("created at"),
    (Client, "updated_at"): _("updated at"),
    (Referral, "created_at"): _("created at"),
    (Referral, "updated_at"): _("updated at"),
}


def field_label(model, name):
    """The field's label in the active language."""
    return FIELD_LABELS.get((model, name)) or model._meta.get_field(name).verbose_name


def label_form_fields(form):
    """Give a ModelForm's fields the labels above (Django's labels, capitalised, elsewhere)."""
    model = form._meta.model
    for name, field in form.fields.items():
        if (model, name) in FIELD_LABELS:
            field.label = capfirst(FIELD_LABELS[(model, name)])
