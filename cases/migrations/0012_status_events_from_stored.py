"""Turn the statuses stored before dated outcomes into status changes (SPEC §12.1).

Clients marked deceased, transferred out or stopped get one change each; `ltfu` needs none
(it is derived from refill dates) and `active` is where every client starts. The effective
date is the best date the data has, in this order:
1. the day a tracing task was closed with that outcome (deceased, transferred): the day the
   finding was recorded;
2. the day of the latest access-log entry that changed the client's `status` (or created the
   client, when it was registered with that status): the day the status was set;
3. the day the client's record was last changed (`updated_at`), at the client's site.
The reason says which, so a supervisor can put a date right with a later change.
"""

import zoneinfo

from django.db import migrations

OUT_OF_CARE = ("deceased", "transferred_out", "stopped")
TRACING_OUTCOME = {"deceased": "deceased", "transferred_out": "transferred"}


def _site_day(moment, site):
    return moment.astimezone(zoneinfo.ZoneInfo(site.timezone)).date()


def forwards(apps, schema_editor):
    Client = apps.get_model("cases", "Client")
    Tracing = apps.get_model("cases", "Tracing")
    AccessLog = apps.get_model("cases", "AccessLog")
    ClientStatusEvent = apps.get_model("cases", "ClientStatusEvent")
    events = []
    for client in Client.objects.filter(status__in=OUT_OF_CARE).select_related("site").order_by("pk").iterator():
        day, user_id, source = None, None, ""
        outcome = TRACING_OUTCOME.get(client.status)
        if outcome:
            tracing = (
                Tracing.objects.filter(client_id=client.pk, close_reason=outcome, closed_on__isnull=False)
                .order_by("-closed_on", "-pk")
                .first()
            )
            if tracing is not None:
                day, user_id, source = tracing.closed_on, tracing.claimed_by_id, "the tracing task closed that day"
        if day is None:
            entries = AccessLog.objects.filter(
                client_id=client.pk, object_type="cases.client", action__in=("create", "update")
            ).order_by("-at", "-pk")
            for entry in entries.iterator():
                if entry.action == "create" or "status" in (entry.fields or []):
                    day, user_id = _site_day(entry.at, client.site), entry.user_id
                    source = "the access log's last change of the status"
                    break
        if day is None:
            day, source = _site_day(client.updated_at, client.site), "the record's last change"
        events.append(
            ClientStatusEvent(
                client_id=client.pk,
                status=client.status,
                effective_date=day,
                reason=f"Recorded before dated outcomes; date from {source}.",
                recorded_by_id=user_id,
            )
        )
    ClientStatusEvent.objects.bulk_create(events, batch_size=500)


def backwards(apps, schema_editor):
    # The stored statuses are still on the clients: the changes can go.
    apps.get_model("cases", "ClientStatusEvent").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_client_status_events")]

    operations = [migrations.RunPython(forwards, backwards)]
