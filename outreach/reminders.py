"""Outreach's part of the reminder engine: incident targets breached → the site's supervisors,
once per incident and target, through the one notification outbox (cases.outbox)."""

from django.db.models import DateField, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import outbox, selectors
from cases.models import NotificationKind, Role

from .models import OPEN_INCIDENT_STATUSES, HomeVisit, Incident, IncidentStatus

ACK = "outreach.incident.acknowledge"
RESOLVE = "outreach.incident.resolve"


def scan_incident_targets(*, site, today):
    """Targets are instants, not days: compared with now whatever `today` a catch-up run uses."""
    now = timezone.now()
    supervisors = {"site__users__role": Role.SUPERVISOR, "site__users__is_active": True}
    unacknowledged = Incident.objects.filter(
        site=site, status=IncidentStatus.REPORTED, acknowledged_at__isnull=True, ack_due_at__lt=now, **supervisors
    )
    unresolved = Incident.objects.filter(
        site=site, status__in=OPEN_INCIDENT_STATUSES, resolve_due_at__lt=now, **supervisors
    )
    common = {"kind": NotificationKind.INCIDENT_BREACH, "subject": "id", "recipient_user": "site__users__id"}
    return {
        NotificationKind.INCIDENT_BREACH: outbox.insert_notifications(unacknowledged, subject_type=ACK, **common)
        + outbox.insert_notifications(unresolved, subject_type=RESOLVE, **common)
    }


def _render_breach(notification):
    incident = Incident.objects.get(pk=notification.subject_id)
    target = _("acknowledge") if notification.subject_type == ACK else _("resolve")
    return _("Incident #%(id)s (%(urgency)s, %(kind)s) missed its target to %(target)s.") % {
        "id": incident.pk,
        "urgency": incident.get_urgency_display(),
        "kind": incident.get_kind_display(),
        "target": target,
    }


def last_visit_date():
    # The latest visit's date: one entry of visit_client_latest_idx per client, where a MAX
    # over the dates read all of them (a fifth of the caseload report at 500 000 visits).
    return Subquery(
        HomeVisit.objects.filter(client=OuterRef("pk"))
        .order_by("-visited_at")
        .values(last=TruncDate("visited_at"))[:1],
        output_field=DateField(),
    )


def register():
    outbox.register_scan(scan_incident_targets)
    outbox.register_renderer(ACK, _render_breach)
    outbox.register_renderer(RESOLVE, _render_breach)
    selectors.register_client_row_annotation("last_visit_date", last_visit_date)
