"""Reads for outreach: the social worker's to-do."""

from django.db.models import OuterRef, Subquery

from cases import access as cases_access
from cases.models import ClientStatus

from .models import HomeVisit


def clients_visit_due(user, *, today):
    """Active clients in `user`'s reach whose latest visit planned the next one for `today`
    or earlier (and that visit has not happened yet: a later visit replaces the plan)."""
    planned = (
        HomeVisit.objects.filter(client=OuterRef("pk")).order_by("-visited_at", "-id").values("next_visit_date")[:1]
    )
    return (
        cases_access.clients_for_records(user)
        .filter(status=ClientStatus.ACTIVE)
        .annotate(next_visit_date=Subquery(planned))
        .filter(next_visit_date__lte=today)
        .order_by("next_visit_date", "code")
    )
