"""A client's timeline: everything that happened to one client, across the apps, in one
time-ordered, paginated list (SPEC §8 `clients/{id}/timeline/`).

One UNION ALL query pages over (type, id, at) of every source, filtered by what the user may
see of each; then one query per type on the page fetches the details. The number of
queries depends on the number of types, never on the number of events.
"""

from django.db.models import CharField, DateTimeField, F, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from cases import access as cases_access
from cases import audit
from cases.models import ClientStatusEvent, Refill, ViralLoad
from casework import access as casework_access
from empowerment import access as empowerment_access
from outreach import access as outreach_access
from referrals import access as referral_access
from transfers.models import Transfer


def _at(field, *, is_date):
    return Cast(F(field), DateTimeField()) if is_date else F(field)


# type → (rows the user may see for a client, time field, is it a date, detail fields)
def _sources(user, client):
    return {
        "refill": (
            cases_access.records_visible_to(user, Refill).filter(client=client),
            "pickup_date",
            True,
            ("pickup_date", "days_supplied", "next_due", "facility_id", "missed_doses", "returned_to_treatment"),
        ),
        "viral_load": (
            cases_access.records_visible_to(user, ViralLoad).filter(client=client),
            "sample_date",
            True,
            ("sample_date", "copies_per_ml", "suppressed"),
        ),
        "status": (
            cases_access.records_visible_to(user, ClientStatusEvent).filter(client=client),
            "effective_date",
            True,
            ("effective_date", "status", "reason", "recorded_by_id"),
        ),
        "visit": (
            outreach_access.visits_visible_to(user).filter(client=client),
            "visited_at",
            False,
            ("visited_at", "kind", "visitor_id", "missed_doses_7d", "next_visit_date"),
        ),
        "service": (
            outreach_access.services_visible_to(user).filter(client=client),
            "date",
            True,
            ("date", "service", "amount", "provider_id"),
        ),
        "meeting": (
            outreach_access.meetings_visible_to(user).filter(attendees=client),
            "date",
            True,
            ("date", "topic", "support_group_id"),
        ),
        "incident": (
            outreach_access.incidents_visible_to(user).filter(client=client),
            "reported_at",
            False,
            ("reported_at", "kind", "urgency", "status"),
        ),
        "referral": (
            referral_access.referrals_visible_to(user).filter(client=client),
            "created_at",
            False,
            ("created_at", "service", "to_facility_id", "status", "urgency"),
        ),
        "enrolment": (
            empowerment_access.enrolments_visible_to(user).filter(client=client),
            "enrolled_on",
            True,
            ("enrolled_on", "programme_id", "programme__name", "programme__kind", "outcome", "outcome_on"),
        ),
        "session": (
            empowerment_access.sessions_visible_to(user).filter(attendees=client),
            "date",
            True,
            ("date", "topic", "programme_id", "programme__name"),
        ),
        "transfer": (
            cases_access.records_visible_to(user, Transfer).filter(client=client),
            "requested_at",
            False,
            ("requested_at", "status", "from_site__code", "to_site__code", "accepted_on", "reason"),
        ),
        "assessment": (
            casework_access.assessments_visible_to(user).filter(client=client),
            "assessed_on",
            True,
            ("assessed_on", "kind", "assessor_id"),
        ),
        "plan": (
            casework_access.plans_visible_to(user).filter(client=client),
            "started_on",
            True,
            ("started_on", "ended_on", "created_by_id"),
        ),
        "action": (
            casework_access.actions_visible_to(user).filter(client=client),
            "due_date",
            True,
            ("due_date", "description", "owner_id", "status", "done_on", "goal__domain"),
        ),
        "review": (
            casework_access.reviews_visible_to(user).filter(client=client),
            "created_at",
            False,
            ("created_at", "assessment_id", "reviewed_by_id", "signed_off_by_id", "signed_off_at"),
        ),
        "closure": (
            casework_access.closures_visible_to(user).filter(client=client),
            "closed_on",
            True,
            ("closed_on", "reason", "note", "reopened_on"),
        ),
    }


def client_timeline(user, client, *, offset, limit):
    """(total, page of events) for `client` as `user` may see it."""
    sources = _sources(user, client)
    parts = [
        rows.order_by()
        .annotate(event_type=Value(kind, output_field=CharField()), event_at=_at(field, is_date=is_date))
        .values_list("event_type", "id", "event_at")
        for kind, (rows, field, is_date, _details) in sources.items()
    ]
    union = parts[0].union(*parts[1:], all=True)
    total = union.count()
    page = list(union.order_by("-event_at", "event_type", "-id")[offset : offset + limit])
    ids_by_type = {}
    for kind, pk, _at_value in page:
        ids_by_type.setdefault(kind, []).append(pk)
    details = {}
    for kind, ids in ids_by_type.items():
        rows, _field, _is_date, fields = sources[kind]
        for row in rows.model.objects.filter(pk__in=ids).values("id", *fields):
            details[(kind, row.pop("id"))] = {
                name.removesuffix("_id").replace("__", "_"): value for name, value in row.items()
            }
    return total, [{"type": kind, "id": pk, "at": at, **details[(kind, pk)]} for kind, pk, at in page]


class TimelineEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[
            "refill",
            "viral_load",
            "status",
            "visit",
            "service",
            "meeting",
            "incident",
            "referral",
            "enrolment",
            "session",
            "transfer",
            "assessment",
            "plan",
            "action",
            "review",
            "closure",
        ]
    )
    id = serializers.IntegerField()
    at = serializers.DateTimeField()


class ClientTimelineView(GenericAPIView):
    """GET clients/{id}/timeline/: newest first; `page`, `page_size` like every list.
    Each event carries its type, id, time and the main fields of its record."""

    serializer_class = TimelineEventSerializer

    @extend_schema(responses={200: OpenApiResponse(TimelineEventSerializer(many=True))})
    def get(self, request, pk):
        client = cases_access.client_for_user(request.user, pk)
        audit.log_client_read(client, what="timeline")
        paginator = self.pagination_class()
        page_size = paginator.get_page_size(request)
        page = request.query_params.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= 10**6:
            raise NotFound(_("Invalid page."))
        number = int(page)
        total, events = client_timeline(request.user, client, offset=(number - 1) * page_size, limit=page_size)
        last = max((total - 1) // page_size + 1, 1)
        if number > last:
            raise NotFound(_("Invalid page."))
        base = request.build_absolute_uri(request.path)
        return Response(
            {
                "count": total,
                "next": f"{base}?page={number + 1}&page_size={page_size}" if number < last else None,
                "previous": f"{base}?page={number - 1}&page_size={page_size}" if number > 1 else None,
                "results": events,
            }
        )
