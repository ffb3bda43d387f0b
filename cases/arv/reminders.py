"""The ARV follow-up's reminders (SPEC §6): refill coming up, missed, tracing due and lost to
follow-up, for each active client's latest refill, inserted into the outbox set-based (one
INSERT … SELECT per kind and site), and the tracing tasks and LTFU status the scan opens.
Registered with the outbox by CasesConfig.ready."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Value
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases import audit, outbox
from cases.models import Client, ClientStatus, NotificationChannel, NotificationKind, Refill, Role, Tracing
from cases.selectors import ltfu_due_cutoff

REFILL = "cases.refill"


def scan_refills(*, site, today) -> dict:
    """Upcoming, missed, tracing and LTFU reminders for each active client's latest refill."""
    active = Client.objects.filter(site=site, status=ClientStatus.ACTIVE, last_refill__isnull=False)
    upcoming = active.filter(
        next_refill_due__gte=today, next_refill_due__lte=today + timedelta(site.refill_upcoming_days)
    )
    missed = active.filter(
        next_refill_due__lte=today - timedelta(site.refill_missed_days),
        next_refill_due__gt=today - timedelta(site.tracing_days),
    )
    tracing = active.filter(
        next_refill_due__lte=today - timedelta(site.tracing_days),
        next_refill_due__gt=ltfu_due_cutoff(today, site.ltfu_days),
    )
    lost = active.filter(next_refill_due__lte=ltfu_due_cutoff(today, site.ltfu_days))
    # Withdrawn consent ends the volunteers' part at once, and the client's SMS.
    consenting = {"consent_withdrawn_on__isnull": True}
    counts = {
        NotificationKind.REFILL_UPCOMING: outbox.insert_notifications(
            upcoming.filter(consent_sms=True, **consenting).exclude(phone=""),
            kind=NotificationKind.REFILL_UPCOMING,
            subject_type=REFILL,
            subject="last_refill_id",
            recipient_client="id",
        )
        + outbox.insert_notifications(
            upcoming.filter(companion__isnull=False, **consenting),
            kind=NotificationKind.REFILL_UPCOMING,
            subject_type=REFILL,
            subject="last_refill_id",
            recipient_user="companion_id",
        ),
        NotificationKind.REFILL_MISSED: outbox.insert_notifications(
            missed.filter(companion__isnull=False, **consenting),
            kind=NotificationKind.REFILL_MISSED,
            subject_type=REFILL,
            subject="last_refill_id",
            recipient_user="companion_id",
        )
        + outbox.insert_notifications(
            missed.filter(assigned_social_worker__isnull=False),
            kind=NotificationKind.REFILL_MISSED,
            subject_type=REFILL,
            subject="last_refill_id",
            recipient_user="assigned_social_worker_id",
        ),
        NotificationKind.TRACING_DUE: outbox.insert_notifications(
            tracing.filter(assigned_social_worker__isnull=False),
            kind=NotificationKind.TRACING_DUE,
            subject_type=REFILL,
            subject="last_refill_id",
            recipient_user="assigned_social_worker_id",
        ),
        NotificationKind.CLIENT_LTFU: outbox.insert_notifications(
            lost.filter(site__users__role=Role.SUPERVISOR, site__users__is_active=True),
            kind=NotificationKind.CLIENT_LTFU,
            subject_type=REFILL,
            subject="last_refill_id",
            recipient_user="site__users__id",
        ),
    }
    # Every client 7 or more days late needs finding, also one who jumped past the tracing
    # window while the scan was down; the lapsed refill's unique key keeps it to one.
    counts["tracing_opened"] = _open_tracings(
        active.filter(next_refill_due__lte=today - timedelta(site.tracing_days)), today
    )
    # A bulk write, logged by the scan itself (no signal tells of it).
    counts["clients_ltfu"] = audit.logged_update(lost, status=ClientStatus.LTFU, version=F("version") + 1)
    return counts


def _open_tracings(clients, today) -> int:
    """One tracing per lapsed refill; the partial unique index keeps one open per client."""
    select = (
        clients.order_by()
        .exclude(Exists(Tracing.objects.filter(refill_id=OuterRef("last_refill_id"))))
        .annotate(t_opened_on=Value(today), t_status=Value("open"), t_close_reason=Value(""))
        .values_list("id", "last_refill_id", "t_opened_on", "t_status", "t_close_reason")
    )
    columns = ("client_id", "refill_id", "opened_on", "status", "close_reason")
    opened = outbox.insert_select(Tracing, columns, select, returning=("id", "client_id"))
    # Rows inserted in bulk pass no signal: the scan logs what it opened.
    audit.log_created(Tracing, opened)
    return len(opened)


def render_refill(notification) -> str:
    refill = Refill.objects.select_related("client__site", "facility").get(pk=notification.subject_id)
    client = refill.client
    due = date_format(refill.next_due, "d/m/Y")
    if notification.channel == NotificationChannel.SMS:
        # Per-site wording, checked to say nothing of HIV or ARV (Site.client_sms_template).
        return client.site.client_sms_template.format(
            nickname=client.nickname or client.full_name.split()[0],
            date=due,
            facility=refill.facility.name_for_clients(),
        )
    texts = {
        NotificationKind.REFILL_UPCOMING: _("Client %(code)s: ARV refill due on %(date)s."),
        NotificationKind.REFILL_MISSED: _("Client %(code)s missed the ARV refill due on %(date)s."),
        NotificationKind.TRACING_DUE: _(
            "Client %(code)s has not refilled ARV since %(date)s: please visit (tracing task opened)."
        ),
        NotificationKind.CLIENT_LTFU: _("Client %(code)s is lost to follow-up: no ARV refill since %(date)s."),
    }
    return texts[notification.kind] % {"code": client.code, "date": due}
