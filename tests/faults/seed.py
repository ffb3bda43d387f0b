"""The small world the fault tests run in, made through the services (tests/faults).

    DATABASE_URL=... python tests/faults/seed.py

A site without quiet hours (SMS may go at any hour), its hospital clinic, two supervisors,
two social workers, and clients of `pekerja1` who consented to SMS and picked up a 30-day
refill 27 days ago: the reminder scan tells each of them by SMS that the refill is near.
Prints the clients' ids as JSON.
"""

import datetime
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from cases.arv import services  # noqa: E402
from cases.models import Role  # noqa: E402
from tests.factories import FacilityFactory, SiteFactory, UserFactory, make_client  # noqa: E402

PASSWORD = sys.argv[1] if len(sys.argv) > 1 else "Basodara-faults-2026"
CLIENTS = 12

site = SiteFactory(code="TTE", name="Sentra Ternate")
site.quiet_hours_start = site.quiet_hours_end = datetime.time(0, 0)
site.save()
facility = FacilityFactory(site=site, name="Klinik VCT RSUD")
supervisors = [UserFactory(username=f"supervisor{n}", role=Role.SUPERVISOR, site=site) for n in (1, 2)]
workers = [UserFactory(username=f"pekerja{n}", role=Role.SOCIAL_WORKER, site=site) for n in (1, 2)]
for user in supervisors + workers:
    user.set_password(PASSWORD)
    user.save()

pickup = timezone.localdate(timezone=site.tzinfo) - datetime.timedelta(days=27)
ids = []
for n in range(CLIENTS):
    client = make_client(
        actor=supervisors[0],
        full_name=f"Klien Uji {n}",
        nickname=f"Uji{n}",
        date_of_birth=datetime.date(1980 + n, 1, 1 + n),
        assigned_social_worker=workers[0],
        consent_sms=True,
        phone=f"+6281200000{n:03d}",
    )
    services.refill_record(actor=workers[0], client=client, facility=facility, pickup_date=pickup, days_supplied=30)
    ids.append(client.pk)
print(json.dumps(ids))
