"""Reads: referral rows with `overdue` computed in SQL, and client-row figures."""

import zoneinfo
from datetime import timedelta

from django.db.models import BooleanField, Case, Count, DateField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.selectors import site_timezones

from .models import OPEN_STATUSES, Referral, ReferralEvent, ReferralStatus


def age_on(date_of_birth, today) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def client_as_facility_sees(client, *, today=None) -> dict:
    """The minimum a facility learns about a client (SPEC §5): code, nickname, sex, age.
    The API's `client_summary`, the facility link and the referral page all show this."""
    return {
        "code": client.code,
        "nickname": client.nickname,
        "sex": client.sex,
        "sex_display": client.get_sex_display(),
        "age": age_on(client.date_of_birth, today or timezone.localdate()),
    }


# SPEC §5: a sent referral must be accepted within this long.
ACCEPT_WITHIN = timedelta(days=3)


def site_today_for_referrals(today=None):
    """Each referral's site-local date (the client's site), or `today` for all."""
    if today is not None:
        return Value(today, output_field=DateField())
    whens = [
        When(
            client__site__timezone=zone,
            then=Value(timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)), output_field=DateField()),
        )
        for zone in site_timezones()
    ]
    default = Value(timezone.localdate(), output_field=DateField())
    return Case(*whens, default=default, output_field=DateField()) if whens else default


def overdue_condition(*, now=None, today=None) -> Q:
    """Sent and not accepted within 3 days, or accepted and past its due date (site-local)."""
    now = now or timezone.now()
    return Q(status=ReferralStatus.SENT, sent_at__lte=now - ACCEPT_WITHIN) | Q(
        status=ReferralStatus.ACCEPTED, due_date__lt=site_today_for_referrals(today)
    )


def with_overdue(referrals, *, now=None, today=None):
    return referrals.annotate(
        overdue=Case(
            When(overdue_condition(now=now, today=today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def referral_rows(referrals):
    """Referrals as the API shows them: overdue flag, client summary and events in 3 queries
    for a page (count, rows with their client, events)."""
    return (
        with_overdue(referrals)
        .select_related("client")
        .only(
            *(f.name for f in Referral._meta.concrete_fields),
            "client__id",
            "client__code",
            "client__nickname",
            "client__sex",
            "client__date_of_birth",
            "client__site_id",
        )
        .prefetch_related(Prefetch("events", queryset=ReferralEvent.objects.order_by("at", "id")))
    )


def open_referrals_expression():
    """The number of the client's referrals still open (draft, sent, accepted), 0 if none."""
    open_count = (
        Referral.objects.filter(client=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(open_count), Value(0))
