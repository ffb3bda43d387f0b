"""`reports/referrals/`: a site's referrals over a period (SPEC §8), each figure with its
definition. The owner includes `urlpatterns` from reports/urls.py."""

import datetime
import statistics

from django.db.models import Count
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access as cases_access
from cases.models import Role
from referrals import access
from referrals.models import ReferralStatus
from referrals.selectors import with_overdue

from .scope import ReportQuery, resolve


class FigureSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    definition = serializers.CharField()


class FacilityCountSerializer(serializers.Serializer):
    facility = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class ServiceCountSerializer(serializers.Serializer):
    service = serializers.CharField()
    count = serializers.IntegerField()


class ReferralReportSerializer(serializers.Serializer):
    site = serializers.IntegerField(allow_null=True)
    facility = serializers.IntegerField(allow_null=True)
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    period_definition = serializers.CharField()
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    completion_rate = FigureSerializer()
    median_days_sent_to_accepted = FigureSerializer()
    median_days_accepted_to_completed = FigureSerializer()
    overdue_definition = serializers.CharField()
    overdue_by_facility = FacilityCountSerializer(many=True)
    overdue_by_service = ServiceCountSerializer(many=True)


def _median_days(pairs):
    days = [(end - start).total_seconds() / 86400 for start, end in pairs]
    return (round(statistics.median(days), 2) if days else None), len(days)


def referral_report(*, referrals, start, end, tz) -> dict:
    """Figures over `referrals` created from `start` to `end` (dates, inclusive, in `tz`)."""
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    period = referrals.filter(created_at__gte=since, created_at__lt=until).order_by()
    by_status = dict.fromkeys(ReferralStatus.values, 0)
    by_status.update(dict(period.values_list("status").annotate(n=Count("pk")).values_list("status", "n")))
    closed = by_status["completed"] + by_status["not_completed"] + by_status["declined"]
    sent_to_accepted = _median_days(
        period.filter(accepted_at__isnull=False, sent_at__isnull=False).values_list("sent_at", "accepted_at")
    )
    accepted_to_completed = _median_days(
        period.filter(status=ReferralStatus.COMPLETED, accepted_at__isnull=False).values_list(
            "accepted_at", "closed_at"
        )
    )
    overdue = with_overdue(period).filter(overdue=True)
    return {
        "period_from": start,
        "period_to": end,
        "period_definition": _(
            "Referrals created from the first to the last day (site-local), counted by their status now."
        ),
        "total": sum(by_status.values()),
        "by_status": by_status,
        "completion_rate": {
            "value": round(by_status["completed"] / closed, 4) if closed else None,
            "n": closed,
            "definition": _(
                "completed ÷ (completed + not_completed + declined): of the referrals the facilities closed, "
                "the share where the service was given. Drafts, open and cancelled referrals are left out."
            ),
        },
        "median_days_sent_to_accepted": {
            "value": sent_to_accepted[0],
            "n": sent_to_accepted[1],
            "definition": _("Median days from sending to acceptance, over the referrals that were accepted."),
        },
        "median_days_accepted_to_completed": {
            "value": accepted_to_completed[0],
            "n": accepted_to_completed[1],
            "definition": _("Median days from acceptance to completion, over the referrals completed."),
        },
        "overdue_definition": _("Now overdue: sent and not accepted within 3 days, or accepted and past the due date."),
        "overdue_by_facility": [
            {"facility": row["to_facility"], "name": row["to_facility__name"], "count": row["count"]}
            for row in overdue.values("to_facility", "to_facility__name")
            .annotate(count=Count("pk"))
            .order_by("to_facility__name", "to_facility")
        ],
        "overdue_by_service": list(
            overdue.values("service").annotate(count=Count("pk")).order_by("service").values("service", "count")
        ),
    }


class ReferralReportView(APIView):
    """Referral figures for a site (admins choose it; a group or a worker narrows them) or, for
    facility staff, their facility."""

    @extend_schema(parameters=[ReportQuery], responses=ReferralReportSerializer)
    def get(self, request):
        # The site, group, worker and period as every report reads them (reports.scope).
        scope = resolve(request.user, request.query_params)
        user = request.user
        referrals = access.report_referrals(user)
        facility_staff = cases_access.role_of(user) == Role.FACILITY_STAFF
        if not facility_staff:  # facility staff: their facility's referrals, from whichever site
            referrals = scope.narrow(
                referrals, site="client__site", group="client__support_groups", worker="client__assigned_social_worker"
            )
        figures = referral_report(referrals=referrals, start=scope.start, end=scope.end, tz=scope.tz)
        figures["site"] = scope.site.pk if scope.site is not None and not facility_staff else None
        figures["facility"] = user.facility_id if facility_staff else None
        return Response(ReferralReportSerializer(figures).data)


urlpatterns = [path("reports/referrals/", ReferralReportView.as_view(), name="report-referrals")]
