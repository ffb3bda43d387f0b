"""What a phone keeps for offline work (SPEC §12.6): the minimum, nothing else."""

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cases import access as cases_access
from cases.models import ClientStatus, Tracing, TracingMethod, TracingOutcome, TracingStatus
from outreach import access as outreach_access
from outreach.models import HomeVisit, VisitKind

from . import access

# Code, nickname, next due, last visit, open tracing: no NIK, address, phone or HIV dates.
CLIENT_FIELDS = ("id", "code", "nickname", "next_refill_due", "next_visit_date", "last_visit_date", "open_tracing")


def offline_caseload(user, *, tzinfo) -> list:
    """The user's active clients with what a day's work needs to know of each, in one query."""
    latest_visit = HomeVisit.objects.filter(client=OuterRef("pk")).order_by("-visited_at", "-id")
    open_tracing = Tracing.objects.filter(client=OuterRef("pk"), status=TracingStatus.OPEN).order_by("opened_on", "id")
    rows = (
        access.offline_clients(user)
        .filter(status=ClientStatus.ACTIVE)
        .annotate(
            next_visit_date=Subquery(latest_visit.values("next_visit_date")[:1]),
            last_visit_at=Subquery(latest_visit.values("visited_at")[:1]),
            tracing_id=Subquery(open_tracing.values("id")[:1]),
            tracing_opened_on=Subquery(open_tracing.values("opened_on")[:1]),
            tracing_claimed_by=Subquery(open_tracing.values("claimed_by")[:1]),
        )
        .order_by("code")
        .values(
            "id",
            "code",
            "nickname",
            "next_refill_due",
            "next_visit_date",
            "last_visit_at",
            "tracing_id",
            "tracing_opened_on",
            "tracing_claimed_by",
        )
    )
    return [
        {
            "id": row["id"],
            "code": row["code"],
            "nickname": row["nickname"],
            "next_refill_due": row["next_refill_due"],
            "next_visit_date": row["next_visit_date"],
            "last_visit_date": row["last_visit_at"] and timezone.localdate(row["last_visit_at"], tzinfo),
            "open_tracing": row["tracing_id"]
            and {
                "id": row["tracing_id"],
                "opened_on": row["tracing_opened_on"],
                "claimed_by_me": row["tracing_claimed_by"] == user.pk,
            },
        }
        for row in rows
    ]


def offline_choices(user) -> dict:
    """The choices the offline forms offer this user (translated in the request's language)."""
    kinds = outreach_access.visit_kinds_allowed(user)
    return {
        "visit_kinds": [[value, label] for value, label in VisitKind.choices if value in kinds],
        "tracing_methods": [list(choice) for choice in TracingMethod.choices],
        "tracing_outcomes": [list(choice) for choice in TracingOutcome.choices],
        "facilities": [
            [pk, name]
            for pk, name in cases_access.facilities_visible_to(user).order_by("name").values_list("pk", "name")
        ],
    }
