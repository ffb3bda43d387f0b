"""Generate the benchmark data set on PostgreSQL with COPY (SPEC §10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/basodara_bench \
        python bench/generate.py --clients 100000 --refills 15 [--reset] [--today YYYY-MM-DD]

One site (BNC, Asia/Jayapura) with its supervisors, social workers, volunteers in support
groups, facilities and their staff, `--clients` clients with `--refills` refills each, and
the guardian grants the services would have made. Dates are counted back from the site's
today (or `--today`), so a reminder scan run on that day finds realistic proportions: a few
percent due in the upcoming window, some missed, some to trace, some newly lost to
follow-up. Client.last_refill and next_refill_due are set from the refills with one
UPDATE … FROM, as the refill service would have left them.

Rows go straight to the tables: this bypasses the services on purpose (a million refills
through `refill_record` would take hours). Everything is one transaction; the script
refuses a database that already holds clients unless `--reset` empties the app's tables.
"""

import argparse
import io
import os
import random
import sys
import time
import zoneinfo
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.models import (  # noqa: E402
    Client,
    ClientCodeCounter,
    ClientGroupObjectPermission,
    ClientUserObjectPermission,
    Facility,
    Refill,
    Site,
    SupportGroup,
    User,
    name_key,
)

SITE_CODE = "BNC"
SITE_NAME = "Balai Bina Nusa Cendrawasih Jayapura"
SITE_TZ = "Asia/Jayapura"

SOCIAL_WORKERS = 50
VOLUNTEERS = 100
SUPERVISORS = 3
GROUPS = 20  # 5 volunteers each; the first coordinates
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
    "id", "code", "full_name", "name_key", "nickname", "sex", "date_of_birth", "phone", "address", "nik",
    "hiv_diagnosis_date", "art_start_date", "regimen", "status", "consent_date", "consent_sms", "consent_share",
    "consent_withdrawn_on", "family_disclosure", "pregnant", "possible_duplicate", "version", "created_at",
    "updated_at", "assigned_social_worker_id", "companion_id", "art_facility_id", "site_id",
)  # fmt: skip

# Site settings at their defaults (cases.Site): what the windows below are cut against.
UPCOMING_DAYS, MISSED_DAYS, TRACING_DAYS, LTFU_DAYS = 3, 1, 7, 28


def log(started, message):
    print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--refills", type=int, default=15, help="refills per client")
    parser.add_argument("--today", type=date.fromisoformat, help="the site's today (default: today at the site)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="empty the app's tables first (TRUNCATE … CASCADE)")
    args = parser.parse_args()
    if args.clients < 1 or args.refills < 1:
        parser.error("--clients and --refills must be at least 1")
    return args


# --- COPY helpers ---------------------------------------------------------------------------------


def _text(value):
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def copy_rows(cursor, table, columns, rows):
    """COPY `rows` (tuples in `columns` order) into `table`, in blocks of text."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        block = io.StringIO()
        for n, row in enumerate(rows, 1):
            block.write("\t".join(map(_text, row)))
            block.write("\n")
            if n % 50_000 == 0:
                copy.write(block.getvalue())
                block = io.StringIO()
        copy.write(block.getvalue())


def copy_lines(cursor, table, columns, lines):
    """COPY pre-formatted text lines (each ending in a newline) into `table`."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(lines), 100_000):
            copy.write("".join(lines[start : start + 100_000]))


# --- the data -----------------------------------------------------------------------------------


def stamp(day, hour=2):
    """A day at the site as an aware timestamp literal (UTC), mid-morning local time."""
    return f"{day.isoformat()} {hour:02d}:00:00+00"


def generate(args, started):
    rng = random.Random(args.seed)
    tz = zoneinfo.ZoneInfo(SITE_TZ)
    today = args.today or timezone.localdate(timezone=tz)
    today_ord = today.toordinal()
    now = stamp(today)
    log(started, f"generating for today = {today.isoformat()} at {SITE_CODE} ({SITE_TZ}), seed {args.seed}")

    pg = connection.cursor().connection  # the psycopg connection under Django's

    with pg.cursor() as cur:
        # Fixed ids for the small tables, so rows can point at each other inside one COPY run;
        # sequences are moved past them at the end.
        site_id = 1
        copy_rows(
            cur,
            Site._meta.db_table,
            [
                "id", "name", "code", "timezone", "ltfu_days", "refill_upcoming_days", "refill_missed_days",
                "tracing_days", "quiet_hours_start", "quiet_hours_end", "client_sms_template",
            ],
            [(
                site_id, SITE_NAME, SITE_CODE, SITE_TZ, LTFU_DAYS, UPCOMING_DAYS, MISSED_DAYS, TRACING_DAYS,
                "21:00", "07:00", "Halo {nickname}, jangan lupa jadwal kontrol Anda tanggal {date} di {facility}.",
            )],
        )  # fmt: skip

        # Facilities: the site's ARV places, a centre service, two outside the site.
        facilities = (
            [(f"Klinik PDP RSUD {n}", "hospital_clinic", f"RSUD {n}") for n in ("Jayapura", "Abepura", "Yowari")]
            + [(f"Puskesmas {d}", "puskesmas", "") for d in DISTRICTS[:8]]
            + [("Layanan Balai Bina Nusa Cendrawasih", "centre_service", "")]
        )
        facility_rows = []
        for i, (name, kind, sms_name) in enumerate(facilities, 1):
            services = (
                '["vct", "art_refill", "viral_load", "tb", "sti"]'
                if kind != "centre_service"
                else ('["emergency_aid", "counselling", "family_strengthening", "economic_empowerment", "shelter"]')
            )
            facility_rows.append((i, name, kind, services, f"+62967{rng.randrange(100000, 999999)}", "Jayapura",
                                  site_id, sms_name))  # fmt: skip
        outside = [("RSUP Dr. Wahidin Sudirohusodo", "hospital_clinic"), ("Yayasan Peduli Papua", "ngo")]
        for name, kind in outside:
            facility_rows.append((len(facility_rows) + 1, name, kind, '["counselling"]', "", "", None, ""))
        copy_rows(
            cur,
            Facility._meta.db_table,
            ["id", "name", "kind", "services", "contact_phone", "address", "site_id", "sms_name"],
            facility_rows,
        )
        arv_facilities = [row[0] for row in facility_rows if row[2] in ("hospital_clinic", "puskesmas") and row[6]]
        log(started, f"site {SITE_CODE} and {len(facility_rows)} facilities")

        # Users: unusable password "!" (no one signs in to the bench data).
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
        for i in range(1, SUPERVISORS + 1):
            add_user(f"bench_supervisor{i:02d}", "supervisor")
        workers = [add_user(f"bench_worker{i:03d}", "social_worker") for i in range(1, SOCIAL_WORKERS + 1)]
        volunteers = [add_user(f"bench_volunteer{i:03d}", "volunteer") for i in range(1, VOLUNTEERS + 1)]
        for fid in arv_facilities:
            add_user(f"bench_facility{fid:02d}", "facility_staff", site=None, facility=fid)
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
        group_volunteers = {g: volunteers[(g - 1) * 5 : g * 5] for g in range(1, GROUPS + 1)}
        copy_rows(cur, "auth_group", ["id", "name"], [(g, f"support-group-bench-{g:03d}") for g in group_volunteers])
        copy_rows(
            cur,
            SupportGroup._meta.db_table,
            ["id", "kind", "name", "auth_group_id", "coordinator_id", "site_id"],
            [(g, "KDS" if g <= 12 else "LKS", f"{rng.choice(LAST_NAMES)} Sehati {g:02d}", g, vols[0], site_id)
             for g, vols in group_volunteers.items()],
        )  # fmt: skip
        copy_rows(
            cur,
            User.groups.through._meta.db_table,
            ["user_id", "group_id"],
            [(v, g) for g, vols in group_volunteers.items() for v in vols],
        )
        log(started, f"{len(users)} users ({SUPERVISORS} supervisors, {SOCIAL_WORKERS} social workers, "
                     f"{VOLUNTEERS} volunteers), {GROUPS} support groups")  # fmt: skip

        # Clients and their refills, generated together: a client's registration date is
        # the first refill's, and its code's year is that date's.
        client_lines, refill_lines, memberships = [], [], []
        counters = {}
        refill_id = 0
        status_weights = [("active", 86), ("ltfu", 8), ("transferred_out", 3), ("stopped", 1.5), ("deceased", 1.5)]
        statuses = [s for s, _ in status_weights]
        status_w = [w for _, w in status_weights]
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
            facility = rng.choice(arv_facilities)
            recorded_by = worker or rng.choice(workers)
            client = {
                "id": cid,
                "code": code,
                "full_name": full_name,
                "name_key": name_key(full_name),
                "nickname": full_name.split()[0] if rng.random() < 0.5 else "",
                "sex": sex,
                "date_of_birth": date.fromordinal(first_pickup - rng.randint(18 * 365, 60 * 365)),
                "phone": f"+62812{rng.randrange(10**7, 10**8)}" if rng.random() < 0.85 else "",
                "address": f"Jl. {rng.choice(LAST_NAMES)} {rng.randint(1, 200)}, {rng.choice(DISTRICTS)}",
                "nik": f"9171{rng.randrange(10**11, 10**12)}" if rng.random() < 0.6 else "",
                "hiv_diagnosis_date": date.fromordinal(first_pickup - rng.randint(0, 60)),
                "art_start_date": date.fromordinal(first_pickup),
                "regimen": rng.choice(REGIMENS),
                "status": status,
                "consent_date": registered,
                "consent_sms": rng.random() < 0.5,
                "consent_share": rng.random() < 0.4,
                "consent_withdrawn_on": max(withdrawn, registered) if withdrawn else None,
                "family_disclosure": rng.choice(["unknown", "not_disclosed", "partial", "disclosed"]),
                "pregnant": sex == "F" and rng.random() < 0.02,
                "possible_duplicate": False,
                "version": 1,
                "created_at": stamp(registered),
                "updated_at": now,
                "assigned_social_worker_id": worker,
                "companion_id": companion,
                "art_facility_id": facility,
                "site_id": site_id,
            }
            client_lines.append("\t".join(_text(client[column]) for column in CLIENT_COLUMNS) + "\n")
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
        log(started, f"generated {len(client_lines)} clients and {len(refill_lines)} refills in memory")

        copy_lines(cur, Client._meta.db_table, CLIENT_COLUMNS, client_lines)
        log(started, f"COPY {len(client_lines)} clients")
        copy_lines(cur, Client.support_groups.through._meta.db_table, ["client_id", "supportgroup_id"], memberships)
        log(started, f"COPY {len(memberships)} support-group memberships")
        copy_lines(
            cur,
            Refill._meta.db_table,
            [
                "id", "pickup_date", "days_supplied", "next_due", "missed_doses", "returned_to_treatment",
                "created_at", "client_id", "facility_id", "recorded_by_id",
            ],
            refill_lines,
        )  # fmt: skip
        log(started, f"COPY {len(refill_lines)} refills")
        del client_lines, refill_lines

        copy_rows(
            cur,
            ClientCodeCounter._meta.db_table,
            ["site_id", "year", "last_number"],
            [(site_id, year, n) for year, n in sorted(counters.items())],
        )

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

        # The grants client_assign and the support-group sync would have made.
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
        log(started, f"grants: {user_grants} user rows, {cur.rowcount} group rows")

    # Move every sequence past the ids given explicitly above.
    models = [Site, Facility, User, SupportGroup, Client, Refill, ClientCodeCounter,
              ClientUserObjectPermission, ClientGroupObjectPermission, User.groups.through,
              Client.support_groups.through]  # fmt: skip
    from django.contrib.auth.models import Group

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models + [Group]):
            cursor.execute(sql)
    return today


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
    pct = lambda n: f"{n} ({100 * n / total:.1f}%)"  # noqa: E731
    print(
        f"clients {total}, active {pct(active)}; due on {today}: upcoming {pct(upcoming)}, missed {pct(missed)}, "
        f"tracing {pct(tracing)}, newly LTFU {pct(lost)}; refills since {first}"
    )


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
            cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE")
        log(started, f"--reset: truncated {len(tables)} tables")

    with transaction.atomic():
        today = generate(args, started)
        with connection.cursor() as cursor:
            # The bench's own note of what it generated, read by reminder_scan.py for its
            # default --today (not an app table: --reset recreates it).
            cursor.execute("DROP TABLE IF EXISTS bench_meta")
            cursor.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL)")
            cursor.execute(
                "INSERT INTO bench_meta VALUES ('today', %s), ('seed', %s), ('clients', %s), ('refills', %s)",
                [today.isoformat(), str(args.seed), str(args.clients), str(args.refills)],
            )
    log(started, "committed")

    with connection.cursor() as cursor:
        # Outside a transaction: VACUUM sets the visibility map (as autovacuum would have by
        # the time anyone runs a scan) and ANALYZE gives the planner real statistics.
        cursor.execute("VACUUM ANALYZE")
    log(started, "VACUUM ANALYZE")
    summarise(today)
    print(f"today used: {today.isoformat()} (kept in table bench_meta: reminder_scan.py scans as of that day)")
    log(started, "done")


if __name__ == "__main__":
    main()
