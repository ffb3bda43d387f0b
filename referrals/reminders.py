"""The overdue-referral scan and its message, registered with cases.outbox (SPEC §6)."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.models import NotificationKind
from cases.outbox import insert_notifications

from .models import Referral, ReferralStatus
from .selectors import overdue_condition

SUBJECT_TYPE = "referrals.referral"


def scan_overdue_referrals(*, site, today) -> dict:
    """One `referral_overdue` to the sender of each overdue referral of the site's clients.

    "Now" is `today` at the site's current clock time, so `run_reminders --today` moves
    the 3-day acceptance window with the date. The outbox's unique key keeps it to one.
    """
    clock = timezone.localtime(timezone=site.tzinfo).timetz()
    now = datetime.datetime.combine(today, clock.replace(tzinfo=None), tzinfo=site.tzinfo)
    overdue = Referral.objects.filter(
        overdue_condition(now=now, today=today), client__site=site, from_user__is_active=True
    )
    return {
        NotificationKind.REFERRAL_OVERDUE: insert_notifications(
            overdue,
            kind=NotificationKind.REFERRAL_OVERDUE,
            subject_type=SUBJECT_TYPE,
            subject="id",
            recipient_user="from_user_id",
            site="client__site_id",
        )
    }


def render_referral(notification) -> str:
    """Staff text naming the client by code only (never the facility: its name may reveal HIV care)."""
    referral = Referral.objects.select_related("client").get(pk=notification.subject_id)
    values = {"id": referral.pk, "code": referral.client.code}
    if referral.status == ReferralStatus.ACCEPTED and referral.due_date:
        values["date"] = date_format(referral.due_date, "d/m/Y")
        return _("Referral #%(id)s for client %(code)s is overdue: accepted but not completed by %(date)s.") % values
    return _("Referral #%(id)s for client %(code)s is overdue: not accepted within 3 days of sending.") % values
