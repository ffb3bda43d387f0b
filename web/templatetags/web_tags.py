"""Template helpers: Bootstrap-ready fields with their errors bound for screen readers,
ARV badges, the unread-notification count."""

from django import forms, template
from django.utils.translation import gettext_lazy as _

from cases import access
from cases.selectors import ArvState
from casework import access as casework_access
from empowerment import access as empowerment_access
from offline import access as offline_access
from outreach import access as outreach_access
from referrals import access as referral_access
from reports import access as reports_access
from reports import national
from transfers import access as transfer_access

register = template.Library()

ARV_BADGES = {
    ArvState.ON_TIME: ("text-bg-success", _("On time")),
    ArvState.DUE: ("text-bg-info", _("Due soon")),
    ArvState.LATE: ("text-bg-warning", _("Late")),
    ArvState.LTFU: ("text-bg-danger", _("Lost to follow-up")),
}


@register.inclusion_tag("web/_arv_badge.html")
def arv_badge(state):
    css, label = ARV_BADGES.get(state, ("text-bg-secondary", _("No refill yet")))
    return {"css": css, "label": label}


@register.simple_tag
def bs_widget(field):
    """The field's widget with Bootstrap classes, `is-invalid` and `aria-describedby` set."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {"class": css + (" is-invalid" if field.errors else "")}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        described.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field):
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.simple_tag(takes_context=True)
def unread_count(context):
    """Unread in-app notifications, one COUNT query (or the context processor's value)."""
    value = context.get("unread_notifications")
    if value is not None:
        return value
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    return access.notifications_of(request.user).filter(read_at__isnull=True).count()


@register.simple_tag
def nav_for(user):
    """Which sections the navigation offers, as the policy decides."""

    return {
        "clients": bool(access.client_readable_fields(user)),
        "incidents": outreach_access.can_report_incident(user),
        "caseload": reports_access.may_review_caseload(user),
        "programmes": empowerment_access.may_record_sessions_at_all(user),
        "national": national.may_see_national(user),
        "break_glass_review": access.can_review_break_glass(user),
        "field": offline_access.may_work_offline(user),
        "transfers": transfer_access.may_request_transfers(user),
        "reviews": casework_access.may_sign_off_at_all(user),
        "referrals": referral_access.can_create_referral(user) or bool(referral_access.referral_readable_fields(user)),
    }
