"""Generate the SPEC §10 data set on PostgreSQL with COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/basodara_bench \
        python bench/generate.py [--reset] [--today YYYY-MM-DD] [--clients 100000] [--refills 15] \
                                 [--visits 500000] [--referrals 100000] [--no-access-log]

One site (BNC, Asia/Jayapura) with 500 users (supervisors, social workers, volunteers in
support groups, staff of its facilities), `--clients` clients with `--refills` refills
each, about one viral load a year on ART, `--visits` home visits and `--referrals`
referrals with their events, and the guardian grants the services would have made
(client assignment, companions, support groups, facility teams). Dates are counted back
from the site's today (or `--today`), so a reminder scan run on that day finds realistic
proportions: a few percent due in the upcoming window, some missed, some to trace, some
newly lost to follow-up. Client.last_refill and next_refill_due are set from the refills
with one UPDATE … FROM, as the refill service would have left them. NIK, phone and address
are written encrypted, through the model fields, with the NIK's keyed hash (cases/security/crypto.py;
bench/benchenv.py gives the keys). The access log gets the entry each recorded row's
creation would have written (`--no-access-log` skips it).

Rows go straight to the tables: this bypasses the services on purpose (a million refills
through `refill_record` would take hours). Everything is one transaction; the script
refuses a database that already holds clients unless `--reset` empties the app's tables.
A progress bar goes to stderr.
"""

import argparse
import os
import random
import sys
import time
import zoneinfo
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")

import benchenv  # noqa: E402

benchenv.use_bench_keys()

import django  # noqa: E402

django.setup()

from activity import add_access_log, add_referrals, add_visits  # noqa: E402
from copying import Clock, Progress, copy_lines, copy_rows, copy_text, model_defaults  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.models import (  # noqa: E402
    AccessLog,
    Client,
    ClientCodeCounter,
    ClientGroupObjectPermission,
    ClientUserObjectPermission,
    Facility,
    Refill,
    Site,
    SupportGroup,
    User,
    ViralLoad,
    name_key,
)
from cases.security import crypto  # noqa: E402
from outreach.models import HomeVisit  # noqa: E402
from referrals.models import FacilityTeam, Referral, ReferralEvent, ReferralGroupObjectPermission  # noqa: E402

SITE_CODE = "BNC"
SITE_NAME = "Balai Bina Nusa Cendrawasih Jayapura"
SITE_TZ = "Asia/Jayapura"

# 500 users in all (SPEC §10): 1 admin, 6 supervisors, 120 social workers, 300 volunteers in
# 60 support groups (5 each, the first coordinates) and 73 staff of the 14 facilities.
SUPERVISORS = 6
SOCIAL_WORKERS = 120
GROUPS = 60
VOLUNTEERS_PER_GROUP = 5
VOLUNTEERS = GROUPS * VOLUNTEERS_PER_GROUP
STAFF_PER_KIND = {"hospital_clinic": 8, "puskesmas": 5, "centre_service": 5}
STAFF_OUTSIDE_SITE = 2
FIRST_NAMES = (
    "Yohanes Maria Agustina Fransiskus Petrus Yakobus Elisabeth Martha Ruth Daniel Samuel Ester "
    "Rahmawati Sofyan Fitriani Hasanudin Yuliana Ikbal Marni Ardi Nona Sri Hamdan Wahyuni Agus Dewi "
    "Bambang Siti Budi Ratna Eko Lestari Joko Wati Andi Nur Rudi Yanti Markus Lukas Paulus Stefanus"
).split()
LAST_NAMES = (
    "Wenda Tabuni Kogoya Wonda Yikwa Murib Wanimbo Rumbiak Mandowen Ayomi Sanggenafa Awom Kambu "
    "Rumbewas Karubaba Yoku Ohee Hamadi Marsaoly Sibua Soamole Tomagola Syarif Pratama Saputra"
).split()
DISTRICTS = "Abepura Heram Jayapura-Utara Jayapura-Selatan Muara-Tami Sentani Waena Kotaraja Entrop Argapura".split()
REGIMENS = ["TLD", "TLE", "AZT+3TC+NVP", "TDF+3TC+EFV", "ABC+3TC+DTG"]
# Multi-month dispensing mix: most stable clients take three months at a time.
DAYS_SUPPLIED = [30, 60, 90, 180]
DAYS_WEIGHTS = [35, 15, 40, 10]

CLIENT_COLUMNS = (
    "id", "code", "full_name", "name_key", "nickname", "sex", "date_of_birth", "phone", "address", "nik", "nik_hash",
    "hiv_diagnosis_date", "art_start_date", "regimen", "status", "consent_date", "consent_sms", "consent_share",
    "consent_withdrawn_on", "family_disclosure", "pregnant", "possible_duplicate", "version", "created_at",
    "updated_at", "assigned_social_worker_id", "companion_id", "art_facility_id", "site_id",
)  # fmt: skip
REFILL_COLUMNS = ("id", "pickup_date", "days_supplied", "next_due", "missed_doses", "returned_to_treatment",
                  "created_at", "client_id", "facility_id", "recorded_by_id")  # fmt: skip
CLIENT_DEFAULTS = model_defaults(Client, CLIENT_COLUMNS)
CLIENT_COLUMNS += tuple(CLIENT_DEFAULTS)
VIRAL_LOAD_COLUMNS = ("id", "client_id", "sample_date", "copies_per_ml", "suppressed", "recorded_by_id", "created_at")
# Site settings at their defaults (cases.Site): what the windows below are cut against.
UPCOMING_DAYS, MISSED_DAYS, TRACING_DAYS, LTFU_DAYS = 3, 1, 7, 28


def log(started, message):
    print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--refills", type=int, default=15, help="refills per client")
    parser.add_argument("--visits", type=int, default=500_000, help="home visits in all")
    parser.add_argument("--referrals", type=int, default=100_000, help="referrals in all")
    parser.add_argument("--no-access-log", action="store_true", help="do not write the creation entries")
    parser.add_argument("--today", type=date.fromisoformat, help="the site's today (default: today at the site)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="empty the app's tables first (TRUNCATE … CASCADE)")
    args = parser.parse_args()
    if args.clients < 1 or args.refills < 1 or args.visits < 0 or args.referrals < 0:
        parser.error("--clients and --refills must be at least 1, --visits and --referrals at least 0")
    return args


# --- the data -----------------------------------------------------------------------------------


def stamp(day, hour=2):
    """A day at the site as an aware timestamp literal (UTC), mid-morning local time."""
    return f"{day.isoformat()} {hour:02d}:00:00+00"


def add_organisation(cur, rng, now):
    """The site, its facilities, 500 users and the support groups; returns who is who."""
    site_id = 1
    site = {
        "id": site_id, "name": SITE_NAME, "code": SITE_CODE, "timezone": SITE_TZ, "ltfu_days": LTFU_DAYS,
        "refill_upcoming_days": UPCOMING_DAYS, "refill_missed_days": MISSED_DAYS, "tracing_days": TRACING_DAYS,
        "quiet_hours_start": "21:00", "quiet_hours_end": "07:00",
        "client_sms_template": "Halo {nickname}, jangan lupa jadwal kontrol Anda tanggal {date} di {facility}.",
    }  # fmt: skip
    site.update(model_defaults(Site, site))  # every other setting at its default
    copy_rows(cur, Site._meta.db_table, list(site), [tuple(site.values())])

    # Facilities: the site's ARV places, a centre service, two outside the site.
    facilities = (
        [(f"Klinik PDP RSUD {n}", "hospital_clinic", f"RSUD {n}") for n in ("Jayapura", "Abepura", "Yowari")]
        + [(f"Puskesmas {d}", "puskesmas", "") for d in DISTRICTS[:8]]
        + [("Layanan Balai Bina Nusa Cendrawasih", "centre_service", "")]
    )
    facility_rows = []
    for i, (name, kind, sms_name) in enumerate(facilities, 1):
        services = (
            ["vct", "art_refill", "viral_load", "tb", "sti"]
            if kind != "centre_service"
            else ["emergency_aid", "counselling", "family_strengthening", "economic_empowerment", "shelter"]
        )
        facility_rows.append((i, name, kind, services, f"+62967{rng.randrange(100000, 999999)}", "Jayapura",
                              site_id, sms_name))  # fmt: skip
    outside = [("RSUP Dr. Wahidin Sudirohusodo", "hospital_clinic"), ("Yayasan Peduli Papua", "ngo")]
    for name, kind in outside:
        facility_rows.append((len(facility_rows) + 1, name, kind, ["counselling"], "", "", None, ""))
    copy_rows(
        cur,
        Facility._meta.db_table,
        ["id", "name", "kind", "services", "contact_phone", "address", "site_id", "sms_name"],
        [(*row[:3], str(row[3]).replace("'", '"'), *row[4:]) for row in facility_rows],
    )

    # Users: unusable password "!" (the bench signs in with tokens and force_login).
    users = []

    def add_user(username, role, *, site=site_id, facility=None, superuser=False):
        uid = len(users) + 1
        users.append((
            uid, "!", None, superuser, username, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES + [""] * 10),
            f"{username}@bench.invalid", superuser, True, now, role, f"+62812{rng.randrange(10**7, 10**8)}",
            facility, site,
        ))  # fmt: skip
        return uid

    add_user("bench_admin", "admin", site=None, superuser=True)
    supervisors = [add_user(f"bench_supervisor{i:02d}", "supervisor") for i in range(1, SUPERVISORS + 1)]
    workers = [add_user(f"bench_worker{i:03d}", "social_worker") for i in range(1, SOCIAL_WORKERS + 1)]
    volunteers = [add_user(f"bench_volunteer{i:03d}", "volunteer") for i in range(1, VOLUNTEERS + 1)]
    staff = {}
    for fid, _name, kind, _services, _phone, _address, facility_site, _sms in facility_rows:
        count = STAFF_PER_KIND[kind] if facility_site else STAFF_OUTSIDE_SITE
        staff[fid] = [
            add_user(f"bench_facility{fid:02d}_{n}", "facility_staff", site=None, facility=fid)
            for n in range(1, count + 1)
        ]
    copy_rows(
        cur,
        User._meta.db_table,
        [
            "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
            "is_staff", "is_active", "date_joined", "role", "phone", "facility_id", "site_id",
        ],
        users,
    )  # fmt: skip

    # Support groups are auth groups underneath: the volunteers are its members.
    per = VOLUNTEERS_PER_GROUP
    group_volunteers = {g: volunteers[(g - 1) * per : g * per] for g in range(1, GROUPS + 1)}
    copy_rows(cur, "auth_group", ["id", "name"], [(g, f"support-group-bench-{g:03d}") for g in group_volunteers])
    copy_rows(
        cur,
        SupportGroup._meta.db_table,
        ["id", "kind", "name", "auth_group_id", "coordinator_id", "site_id"],
        [(g, "KDS" if g <= GROUPS * 3 // 5 else "LKS", f"{rng.choice(LAST_NAMES)} Sehati {g:02d}", g, vols[0],
          site_id) for g, vols in group_volunteers.items()],
    )  # fmt: skip
    copy_rows(
        cur,
        User.groups.through._meta.db_table,
        ["user_id", "group_id"],
        [(v, g) for g, vols in group_volunteers.items() for v in vols],
    )
    return {
        "site_id": site_id,
        "facilities": facility_rows,
        "arv_facilities": [r[0] for r in facility_rows if r[2] in ("hospital_clinic", "puskesmas") and r[6]],
        "users": len(users),
        "supervisors": supervisors,
        "workers": workers,
        "group_volunteers": group_volunteers,
        "staff": staff,
        "next_group_id": GROUPS + 1,  # auth groups: support groups first, facility teams after
    }


def encrypted(field_name):
    """The value as the model field writes it (Fernet ciphertext; the empty string stays empty)."""
    field = Client._meta.get_field(field_name)
    return lambda value: field.get_db_prep_value(value, connection, prepared=False)


def add_clients(cur, rng, org, args, today):
    """Clients with their refills and viral loads; returns what later steps need of each client."""
    today_ord = today.toordinal()
    now = stamp(today)
    workers, group_volunteers = org["workers"], org["group_volunteers"]
    enc_phone, enc_address, enc_nik = encrypted("phone"), encrypted("address"), encrypted("nik")
    client_lines, refill_lines, vl_lines, memberships = [], [], [], []
    counters = {}
    refill_id = vl_id = 0
    people = []  # per client: what visits, referrals and grants need
    status_weights = [("active", 86), ("ltfu", 8), ("transferred_out", 3), ("stopped", 1.5), ("deceased", 1.5)]
    statuses = [s for s, _ in status_weights]
    status_w = [w for _, w in status_weights]
    progress = Progress("clients, refills, VL", args.clients)
    for cid in range(1, args.clients + 1):
        status = rng.choices(statuses, status_w)[0]
        d_last = rng.choices(DAYS_SUPPLIED, DAYS_WEIGHTS)[0]
        if status == "active":
            r = rng.random()
            if r < 0.025:  # missed: 1–6 days late
                offset = -rng.randint(MISSED_DAYS, TRACING_DAYS - 1)
            elif r < 0.065:  # to trace: 7–27 days late
                offset = -rng.randint(TRACING_DAYS, LTFU_DAYS - 1)
            elif r < 0.105:  # newly lost: 28–150 days late, not yet marked
                offset = -rng.randint(LTFU_DAYS, 150)
            else:  # on time: somewhere in the current supply
                offset = rng.randint(0, d_last)
        elif status == "ltfu":
            offset = -rng.randint(LTFU_DAYS, 700)
        else:
            offset = rng.randint(-700, 0)
        # Walk back from the latest refill: each pick-up near the previous one's due date.
        due = today_ord + offset
        chain = []
        pickup = due - d_last
        days = d_last
        for _ in range(args.refills):
            chain.append((pickup, days))
            days = rng.choices(DAYS_SUPPLIED, DAYS_WEIGHTS)[0]
            gap = rng.randint(-7, 10) if rng.random() > 0.03 else rng.randint(30, 200)
            pickup = pickup - gap - days
        chain.reverse()
        first_pickup = chain[0][0]
        registered = date.fromordinal(first_pickup - rng.randint(0, 30))
        year = registered.year
        counters[year] = counters.get(year, 0) + 1
        code = f"{SITE_CODE}-{year}-{counters[year]:04d}"

        worker = rng.choice(workers) if rng.random() < 0.95 else None
        group = rng.randint(1, GROUPS) if rng.random() < 0.9 else None
        companion = rng.choice(group_volunteers[group]) if group and rng.random() < 0.9 else None
        if group:
            memberships.append(f"{cid}\t{group}\n")
        sex = "F" if rng.random() < 0.45 else "M"
        one_name = rng.random() < 0.3  # many Indonesians have one name only
        full_name = rng.choice(FIRST_NAMES) if one_name else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        withdrawn = date.fromordinal(today_ord - rng.randint(1, 300)) if rng.random() < 0.01 else None
        withdrawn = max(withdrawn, registered) if withdrawn else None
        facility = rng.choice(org["arv_facilities"])
        recorded_by = worker or rng.choice(workers)
        phone = f"+62812{rng.randrange(10**7, 10**8)}" if rng.random() < 0.85 else ""
        address = f"Jl. {rng.choice(LAST_NAMES)} {rng.randint(1, 200)}, {rng.choice(DISTRICTS)}"
        nik = f"9171{rng.randrange(10**11, 10**12)}" if rng.random() < 0.6 else ""
        consent_share = rng.random() < 0.7
        client = {
            "id": cid,
            "code": code,
            "full_name": full_name,
            "name_key": name_key(full_name),
            "nickname": full_name.split()[0] if rng.random() < 0.5 else "",
            "sex": sex,
            "date_of_birth": date.fromordinal(first_pickup - rng.randint(18 * 365, 60 * 365)),
            # Encrypted at rest exactly as EncryptedCharField writes them; the NIK also hashed.
            "phone": enc_phone(phone),
            "address": enc_address(address),
            "nik": enc_nik(nik),
            "nik_hash": crypto.keyed_hash(nik) if nik else "",
            "hiv_diagnosis_date": date.fromordinal(first_pickup - rng.randint(0, 60)),
            "art_start_date": date.fromordinal(first_pickup),
            "regimen": rng.choice(REGIMENS),
            "status": status,
            "consent_date": registered,
            "consent_sms": rng.random() < 0.5,
            "consent_share": consent_share,
            "consent_withdrawn_on": withdrawn,
            "family_disclosure": rng.choice(["unknown", "not_disclosed", "partial", "disclosed"]),
            "pregnant": sex == "F" and rng.random() < 0.02,
            "possible_duplicate": False,
            "version": 1,
            "created_at": stamp(registered),
            "updated_at": now,
            "assigned_social_worker_id": worker,
            "companion_id": companion,
            "art_facility_id": facility,
            "site_id": org["site_id"],
        }
        client = {**CLIENT_DEFAULTS, **client}
        client_lines.append("\t".join(copy_text(client[column]) for column in CLIENT_COLUMNS) + "\n")
        previous_due = None
        for pickup, days in chain:
            refill_id += 1
            returned = previous_due is not None and pickup - previous_due >= LTFU_DAYS
            missed = 0 if rng.random() < 0.8 else rng.randint(1, 6)
            pick = date.fromordinal(pickup)
            refill_lines.append(
                f"{refill_id}\t{pick.isoformat()}\t{days}\t{date.fromordinal(pickup + days).isoformat()}\t"
                f"{missed}\t{'t' if returned else 'f'}\t{stamp(pick)}\t{cid}\t{facility}\t"
                f"{recorded_by}\n"
            )
            previous_due = pickup + days

        # In care until today, or until the last supply ran out (lost, moved, stopped, died).
        last_pickup, last_days = chain[-1]
        in_care_until = min(today_ord, last_pickup + last_days + (30 if status == "active" else 0))
        # Viral load: six months after starting ART, then about once a year while in care.
        # Clients who come late are more often unsuppressed.
        late = status != "active" or offset < -TRACING_DAYS
        sample = first_pickup + rng.randint(150, 210)
        while sample <= in_care_until:
            vl_id += 1
            if rng.random() < (0.75 if late else 0.9):
                copies = rng.randint(0, 49) if rng.random() < 0.7 else rng.randint(50, 999)
            else:
                copies = int(10 ** rng.uniform(3, 5.7))
            day = date.fromordinal(sample)
            vl_lines.append(
                f"{vl_id}\t{cid}\t{day.isoformat()}\t{copies}\t{'t' if copies < 1000 else 'f'}\t{recorded_by}\t"
                f"{stamp(date.fromordinal(min(sample + rng.randint(3, 14), today_ord)))}\n"
            )
            sample += rng.randint(320, 410)

        people.append((cid, registered.toordinal(), in_care_until, status, worker, group, companion,
                       consent_share and withdrawn is None, withdrawn.toordinal() if withdrawn else None))  # fmt: skip
        progress.update()
    progress.close()

    copy_lines(cur, Client._meta.db_table, CLIENT_COLUMNS, client_lines, "COPY clients")
    copy_lines(cur, Client.support_groups.through._meta.db_table, ["client_id", "supportgroup_id"], memberships,
               "COPY group memberships")  # fmt: skip
    copy_lines(cur, Refill._meta.db_table, REFILL_COLUMNS, refill_lines, "COPY refills")
    copy_lines(cur, ViralLoad._meta.db_table, VIRAL_LOAD_COLUMNS, vl_lines, "COPY viral loads")
    copy_rows(
        cur,
        ClientCodeCounter._meta.db_table,
        ["site_id", "year", "last_number"],
        [(org["site_id"], year, n) for year, n in sorted(counters.items())],
    )
    return people, {"clients": len(client_lines), "refills": len(refill_lines), "viral loads": len(vl_lines)}


def add_client_grants(cur):
    """The grants client_assign and the support-group sync would have made."""
    cur.execute(
        """
        INSERT INTO cases_clientuserobjectpermission
               (kind, expires_at, content_object_id, granted_by_id, permission_id, user_id)
        SELECT g.kind, NULL, c.id, NULL, p.id, g.user_id
          FROM cases_client c
         CROSS JOIN LATERAL (VALUES ('assignment', c.assigned_social_worker_id, 'change_client'),
                                    ('companion', c.companion_id, 'change_client_contact'))
               AS g(kind, user_id, edit_codename)
          JOIN auth_permission p ON p.codename IN ('view_client', g.edit_codename)
          JOIN django_content_type ct ON ct.id = p.content_type_id
               AND ct.app_label = 'cases' AND ct.model = 'client'
         WHERE g.user_id IS NOT NULL
        """
    )
    user_grants = cur.rowcount
    cur.execute(
        """
        INSERT INTO cases_clientgroupobjectpermission (content_object_id, group_id, permission_id)
        SELECT m.client_id, sg.auth_group_id, p.id
          FROM cases_client_support_groups m
          JOIN cases_supportgroup sg ON sg.id = m.supportgroup_id
          JOIN auth_permission p ON p.codename IN ('view_client', 'change_client_contact')
          JOIN django_content_type ct ON ct.id = p.content_type_id
               AND ct.app_label = 'cases' AND ct.model = 'client'
        """
    )
    return user_grants, cur.rowcount


def generate(args, started):
    rng = random.Random(args.seed)
    tz = zoneinfo.ZoneInfo(SITE_TZ)
    today = args.today or timezone.localdate(timezone=tz)
    clock = Clock(tz, today)
    log(started, f"generating for today = {today.isoformat()} at {SITE_CODE} ({SITE_TZ}), seed {args.seed}")

    pg = connection.cursor().connection  # the psycopg connection under Django's
    counts = {}
    with pg.cursor() as cur:
        # Fixed ids for the small tables, so rows can point at each other inside one COPY run;
        # sequences are moved past them at the end.
        org = add_organisation(cur, rng, stamp(today))
        log(started, f"site {SITE_CODE}, {len(org['facilities'])} facilities, {org['users']} users "
                     f"({SUPERVISORS} supervisors, {SOCIAL_WORKERS} social workers, {VOLUNTEERS} volunteers "
                     f"in {GROUPS} groups, {sum(map(len, org['staff'].values()))} facility staff)")  # fmt: skip

        people, added = add_clients(cur, rng, org, args, today)
        counts.update(added)
        log(started, ", ".join(f"{n} {what}" for what, n in added.items()))

        # What refill_record maintains: the latest refill (by pick-up date) and its due date.
        cur.execute(
            """
            UPDATE cases_client c
               SET last_refill_id = r.id, next_refill_due = r.next_due
              FROM (SELECT DISTINCT ON (client_id) id, client_id, next_due
                      FROM cases_refill
                     ORDER BY client_id, pickup_date DESC, id DESC) r
             WHERE r.client_id = c.id
            """
        )
        log(started, f"UPDATE … FROM: last_refill and next_refill_due on {cur.rowcount} clients")
        # The dated outcome of each client who moved, stopped or died (SPEC §12.1): some days
        # to weeks after the last supply ran out, never after today.
        cur.execute(
            """
            INSERT INTO cases_clientstatusevent (client_id, status, effective_date, reason, recorded_by_id, recorded_at)
            SELECT c.id, c.status, least(c.next_refill_due + (c.id %% 60)::int, %(today)s), 'Generated', NULL, now()
              FROM cases_client c WHERE c.status IN ('transferred_out', 'stopped', 'deceased')
            """,
            {"today": today},
        )
        counts["status changes"] = cur.rowcount
        log(started, f"{cur.rowcount} dated status changes")
        user_grants, group_grants = add_client_grants(cur)
        log(started, f"client grants: {user_grants} user rows, {group_grants} group rows")

        counts["visits"] = add_visits(cur, rng, org, people, args.visits, clock)
        log(started, f"{counts['visits']} home visits")
        added = add_referrals(cur, rng, org, people, args.referrals, clock)
        counts.update(added)
        log(started, ", ".join(f"{n} {what}" for what, n in added.items()))
        if not args.no_access_log:
            counts["access log"] = add_access_log(cur)
            log(started, f"access log: {counts['access log']} entries")

    # Move every sequence past the ids given explicitly above.
    models = [Site, Facility, User, SupportGroup, Client, Refill, ViralLoad, ClientCodeCounter,
              ClientUserObjectPermission, ClientGroupObjectPermission, User.groups.through,
              Client.support_groups.through, HomeVisit, Referral, ReferralEvent, FacilityTeam,
              ReferralGroupObjectPermission, AccessLog, Group]  # fmt: skip
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    return today, counts


def summarise(today):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE status = 'active'),
                   count(*) FILTER (WHERE status = 'active' AND next_refill_due BETWEEN %(t)s AND %(t)s + %(up)s),
                   count(*) FILTER (WHERE status = 'active' AND next_refill_due <= %(t)s - %(missed)s
                                    AND next_refill_due > %(t)s - %(trace)s),
                   count(*) FILTER (WHERE status = 'active' AND next_refill_due <= %(t)s - %(trace)s
                                    AND next_refill_due > %(t)s - %(ltfu)s),
                   count(*) FILTER (WHERE status = 'active' AND next_refill_due <= %(t)s - %(ltfu)s),
                   count(*),
                   (SELECT min(pickup_date) FROM cases_refill)
              FROM cases_client
            """,
            {"t": today, "up": UPCOMING_DAYS, "missed": MISSED_DAYS, "trace": TRACING_DAYS, "ltfu": LTFU_DAYS},
        )
        active, upcoming, missed, tracing, lost, total, first = cursor.fetchone()
        cursor.execute("SELECT status, count(*) FROM referrals_referral GROUP BY 1 ORDER BY 2 DESC")
        referrals = ", ".join(f"{status} {n}" for status, n in cursor.fetchall())
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    pct = lambda n: f"{n} ({100 * n / total:.1f}%)"  # noqa: E731
    print(
        f"clients {total}, active {pct(active)}; due on {today}: upcoming {pct(upcoming)}, missed {pct(missed)}, "
        f"tracing {pct(tracing)}, newly LTFU {pct(lost)}; refills since {first}"
    )
    print(f"referrals by status: {referrals}; database size {size}")


def main():
    args = parse_args()
    started = time.monotonic()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (postgres://…): the bench measures PostgreSQL.")
    call_command("migrate", verbosity=0)
    log(started, f"migrated {connection.settings_dict['NAME']}")

    if Client.objects.exists() or Site.objects.filter(code=SITE_CODE).exists():
        if not args.reset:
            sys.exit("This database already holds clients: pass --reset to empty the app's tables first.")
        keep = {"django_migrations", "django_content_type", "auth_permission"}
        tables = sorted(set(connection.introspection.django_table_names(only_existing=True)) - keep)
        with connection.cursor() as cursor:
            # The access log refuses TRUNCATE unless the session says so (cases migration
            # 0012): --reset empties a bench database of generated data, on purpose.
            cursor.execute("SET basodara.allow_access_log_truncate = on")
            cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE")
        log(started, f"--reset: truncated {len(tables)} tables")

    with transaction.atomic():
        today, counts = generate(args, started)
        with connection.cursor() as cursor:
            # The bench's own note of what it generated, read by reminder_scan.py and
            # endpoints.py for their default --today (not an app table: --reset recreates it).
            cursor.execute("DROP TABLE IF EXISTS bench_meta")
            cursor.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL)")
            meta = {"today": today.isoformat(), "seed": str(args.seed), **{k: str(v) for k, v in counts.items()}}
            cursor.executemany("INSERT INTO bench_meta VALUES (%s, %s)", list(meta.items()))
            log(started, "COMMIT (deferred foreign keys are checked now)")
    log(started, "committed")

    with connection.cursor() as cursor:
        # Outside a transaction: VACUUM sets the visibility map (as autovacuum would have by
        # the time anyone runs a scan) and ANALYZE gives the planner real statistics.
        cursor.execute("VACUUM ANALYZE")
    log(started, "VACUUM ANALYZE")
    summarise(today)
    print(f"today used: {today.isoformat()} (kept in table bench_meta: the other scripts measure as of that day)")
    log(started, "done")


if __name__ == "__main__":
    main()
