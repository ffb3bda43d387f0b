"""Benchmark the ARV reminder scan against raw SQL floors (SPEC §10, issue 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/basodara_bench \
        python bench/reminder_scan.py [--repeat 5] [--today YYYY-MM-DD] [--explain] [--keep]

On the data of bench/generate.py: runs `cases.arv.reminders.scan_refills` for site BNC as the
app does (inside `transaction.atomic()`), `--repeat` times, each repetition rolled back so
that every one does the full insert work from the same state. Interleaved with it, on the
same warm connection, two floors run through psycopg with prepared statements:

* SELECT floor: one raw SELECT per scan statement returning the same due rows (the issue's
  "one raw SQL query selecting the same due rows"); the headline RATIO uses this one;
* INSERT floor: the scan's own INSERT … SELECT … ON CONFLICT DO NOTHING / UPDATE statements
  written by hand, so scan ÷ INSERT floor is what the ORM adds to the SQL it sends.

Deferred foreign keys are checked at COMMIT, which a rolled-back repetition never reaches:
the scan and the INSERT floor both end with SET CONSTRAINTS ALL IMMEDIATE inside the timed
part, so they pay for the checks a real commit would.

Then the scan runs for real twice (committed); the second run must add nothing, or the
script exits 1. The same measurement is repeated in that steady state (what beat runs
every 15 minutes). Afterwards the bench data are put back as they were (unless --keep),
so the benchmark can be run again.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.arv.reminders import scan_refills  # noqa: E402
from cases.models import Client, Notification, NotificationKind, Refill, Site, Tracing  # noqa: E402

SITE_CODE = "BNC"
BUDGET = 2.0

# Conditions shared by every statement: the site's active clients that have a refill.
ACTIVE = "c.site_id = %(site)s AND c.status = 'active' AND c.last_refill_id IS NOT NULL"
UPCOMING = f"{ACTIVE} AND c.next_refill_due >= %(today)s AND c.next_refill_due <= %(upcoming_to)s"
MISSED = f"{ACTIVE} AND c.next_refill_due > %(tracing_to)s AND c.next_refill_due <= %(missed_to)s"
TRACING = f"{ACTIVE} AND c.next_refill_due > %(ltfu_to)s AND c.next_refill_due <= %(tracing_to)s"
LAPSED = f"{ACTIVE} AND c.next_refill_due <= %(tracing_to)s"
LOST = f"{ACTIVE} AND c.next_refill_due <= %(ltfu_to)s"
CONSENTING = "c.consent_withdrawn_on IS NULL"
SUPERVISORS = "JOIN cases_user u ON u.site_id = c.site_id AND u.role = 'supervisor' AND u.is_active"
OUTBOX = (
    "INSERT INTO cases_notification (kind, subject_type, subject_id, recipient_key, recipient_user_id, "
    "recipient_client_id, site_id, channel) "
)


@dataclass
class Statement:
    """One statement of the scan: the kind it counts toward and its two floors."""

    kind: str
    label: str
    select: str
    insert: str


def _to_user(kind, column, where, join=""):
    return (
        f"{OUTBOX}SELECT '{kind}', 'cases.refill', c.last_refill_id, 'user:' || {column}, {column}, NULL, "
        f"c.site_id, 'in_app' FROM cases_client c {join} WHERE {where} ON CONFLICT DO NOTHING"
    )


STATEMENTS = [
    Statement(
        NotificationKind.REFILL_UPCOMING,
        "refill_upcoming → client (SMS)",
        f"SELECT c.id, c.last_refill_id FROM cases_client c WHERE {UPCOMING} AND c.consent_sms AND {CONSENTING} "
        "AND c.phone <> ''",
        f"{OUTBOX}SELECT 'refill_upcoming', 'cases.refill', c.last_refill_id, 'client:' || c.id, NULL, c.id, "
        f"c.site_id, 'sms' FROM cases_client c WHERE {UPCOMING} AND c.consent_sms AND {CONSENTING} "
        "AND c.phone <> '' ON CONFLICT DO NOTHING",
    ),
    Statement(
        NotificationKind.REFILL_UPCOMING,
        "refill_upcoming → companion",
        f"SELECT c.last_refill_id, c.companion_id FROM cases_client c WHERE {UPCOMING} "
        f"AND c.companion_id IS NOT NULL AND {CONSENTING}",
        _to_user("refill_upcoming", "c.companion_id", f"{UPCOMING} AND c.companion_id IS NOT NULL AND {CONSENTING}"),
    ),
    Statement(
        NotificationKind.REFILL_MISSED,
        "refill_missed → companion",
        f"SELECT c.last_refill_id, c.companion_id FROM cases_client c WHERE {MISSED} "
        f"AND c.companion_id IS NOT NULL AND {CONSENTING}",
        _to_user("refill_missed", "c.companion_id", f"{MISSED} AND c.companion_id IS NOT NULL AND {CONSENTING}"),
    ),
    Statement(
        NotificationKind.REFILL_MISSED,
        "refill_missed → social worker",
        f"SELECT c.last_refill_id, c.assigned_social_worker_id FROM cases_client c WHERE {MISSED} "
        "AND c.assigned_social_worker_id IS NOT NULL",
        _to_user(
            "refill_missed", "c.assigned_social_worker_id", f"{MISSED} AND c.assigned_social_worker_id IS NOT NULL"
        ),
    ),
    Statement(
        NotificationKind.TRACING_DUE,
        "tracing_due → social worker",
        f"SELECT c.last_refill_id, c.assigned_social_worker_id FROM cases_client c WHERE {TRACING} "
        "AND c.assigned_social_worker_id IS NOT NULL",
        _to_user(
            "tracing_due", "c.assigned_social_worker_id", f"{TRACING} AND c.assigned_social_worker_id IS NOT NULL"
        ),
    ),
    Statement(
        NotificationKind.CLIENT_LTFU,
        "client_ltfu → supervisors",
        f"SELECT c.last_refill_id, u.id FROM cases_client c {SUPERVISORS} WHERE {LOST}",
        _to_user("client_ltfu", "u.id", LOST, join=SUPERVISORS),
    ),
    Statement(
        "tracing_opened",
        "tracing opened (cases_tracing)",
        f"SELECT c.id, c.last_refill_id FROM cases_client c WHERE {LAPSED}",
        "INSERT INTO cases_tracing (client_id, refill_id, opened_on, status, close_reason) "
        f"SELECT c.id, c.last_refill_id, %(today)s, 'open', '' FROM cases_client c WHERE {LAPSED} "
        "ON CONFLICT DO NOTHING",
    ),
    Statement(
        "clients_ltfu",
        "client status → ltfu (UPDATE)",
        f"SELECT c.id FROM cases_client c WHERE {LOST}",
        f"UPDATE cases_client c SET status = 'ltfu', version = c.version + 1 WHERE {LOST}",
    ),
]


class Rollback(Exception):
    """Raised at the end of a measured repetition so that its transaction is rolled back."""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="measured repetitions of scan and floors")
    parser.add_argument("--today", type=date.fromisoformat, help="default: the day bench/generate.py generated for")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each statement")
    parser.add_argument("--keep", action="store_true", help="keep what the committed runs wrote")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def bench_today(site):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT value FROM bench_meta WHERE key = 'today'")
            row = cursor.fetchone()
            if row:
                return date.fromisoformat(row[0]), "the day generate.py generated for"
    return timezone.localdate(timezone=site.tzinfo), "today at the site"


def scan_params(site, today):
    return {
        "site": site.id,
        "today": today,
        "upcoming_to": today + timedelta(site.refill_upcoming_days),
        "missed_to": today - timedelta(site.refill_missed_days),
        "tracing_to": today - timedelta(site.tracing_days),
        "ltfu_to": today - timedelta(site.ltfu_days),
    }


def raw_cursor():
    """A psycopg cursor with server-side binding on Django's own (warm) connection.

    Django's cursors bind parameters client-side, and psycopg prepares nothing on such a
    cursor; the floors use a plain psycopg.Cursor so that `prepare=True` prepares. Django
    opens its connection with `prepare_threshold=None`, with which psycopg prepares nothing
    at all, `prepare=True` or not: the floors set psycopg's default back (the app's own
    client-side cursors still prepare nothing), else every floor is planned on every run.
    """
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = 5
    return psycopg.Cursor(raw)


def measure_scan(site, today):
    """One rolled-back scan: (seconds, seconds spent in deferred FK checks, counts, queries)."""
    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                counts = scan_refills(site=site, today=today)
                statements_done = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            finished = time.perf_counter()
            raise Rollback
    except Rollback:
        pass
    return finished - started, finished - statements_done, counts, captured.captured_queries


def measure_select_floor(params):
    """Every SELECT floor once, prepared; rows are fetched. (seconds, rows per statement)"""
    rows = []
    with transaction.atomic(), raw_cursor() as cursor:
        started = time.perf_counter()
        for statement in STATEMENTS:
            cursor.execute(statement.select, params, prepare=True)
            rows.append(len(cursor.fetchall()))
        finished = time.perf_counter()
        transaction.set_rollback(True)
    return finished - started, rows


def measure_insert_floor(params):
    """Every hand-written INSERT/UPDATE once, prepared, with the FK checks; rolled back."""
    rows = []
    with transaction.atomic(), raw_cursor() as cursor:
        started = time.perf_counter()
        for statement in STATEMENTS:
            cursor.execute(statement.insert, params, prepare=True)
            rows.append(cursor.rowcount)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        finished = time.perf_counter()
        transaction.set_rollback(True)
    return finished - started, rows


def explain(site, today, params):
    """EXPLAIN ANALYZE each statement of the scan, in order, in one rolled-back transaction."""
    _, _, _, queries = measure_scan(site, today)
    with transaction.atomic(), connection.cursor() as cursor:
        labels = [s.label for s in STATEMENTS] if len(queries) == len(STATEMENTS) else range(1, len(queries) + 1)
        for query, label in zip(queries, labels, strict=True):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, TIMING) {query['sql']}")
            print(f"\n--- scan: {label}")
            print("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)
    with transaction.atomic(), raw_cursor() as cursor:
        for statement in STATEMENTS:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, TIMING) {statement.select}", params)
            print(f"\n--- SELECT floor: {statement.label}")
            print("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def per_kind(rows):
    totals = {}
    for statement, n in zip(STATEMENTS, rows, strict=True):
        totals[statement.kind] = totals.get(statement.kind, 0) + n
    return totals


def checkpoint():
    """Flush what the setup wrote, so the checkpointer does not do it during the timings."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass  # needs a superuser (or pg_checkpoint on PostgreSQL 15+): measure anyway


def measure_interleaved(site, today, params, repeat):
    """Scan, SELECT floor, INSERT floor, scan, … `repeat` times after one warm-up round."""
    checkpoint()
    measure_scan(site, today)
    measure_select_floor(params)
    measure_insert_floor(params)
    result = {"scan": [], "fk": [], "select": [], "insert": [], "queries": set()}
    for _ in range(repeat):
        seconds, fk_seconds, result["counts"], queries = measure_scan(site, today)
        result["scan"].append(seconds)
        result["fk"].append(fk_seconds)
        result["queries"].add(len(queries))
        seconds, result["select_rows"] = measure_select_floor(params)
        result["select"].append(seconds)
        seconds, result["insert_rows"] = measure_insert_floor(params)
        result["insert"].append(seconds)
    return result


def report_times(result, title):
    """Print the timings of one interleaved measurement; return scan ÷ SELECT floor."""
    scan, select, insert = (statistics.median(result[k]) for k in ("scan", "select", "insert"))
    print(f"\n{title}")
    print(
        f"  scan          median {ms(scan)}  min {ms(min(result['scan']))}  queries {sorted(result['queries'])}"
        f"  (of which deferred FK checks {ms(statistics.median(result['fk'])).strip()})"
    )
    print(f"  SELECT floor  median {ms(select)}  min {ms(min(result['select']))}  statements {len(STATEMENTS)}")
    print(
        f"  INSERT floor  median {ms(insert)}  min {ms(min(result['insert']))}  "
        f"statements {len(STATEMENTS)} + SET CONSTRAINTS"
    )
    ratio = scan / select
    verdict = "within" if ratio <= BUDGET else "OVER"
    print(f"  RATIO scan / raw SQL selecting the same due rows: {ratio:.2f}x  ({verdict} the {BUDGET:g}x budget)")
    print(f"  ratio scan / raw INSERT … SELECT statements:     {scan / insert:.2f}x")
    return ratio


def bench_site():
    """The generated site, or exit saying what to do."""
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL bench database (see bench/README.md).")
    site = Site.objects.filter(code=SITE_CODE).first()
    if site is None:
        sys.exit(f"No site {SITE_CODE}: run bench/generate.py first.")
    return site


@dataclass(frozen=True)
class Mark:
    """What committed scan runs will change, so that `restore` puts the data back."""

    last_notification: int
    last_tracing: int
    becoming_ltfu: list


def mark(params) -> Mark:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_notification")
        last_notification = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_tracing")
        last_tracing = cursor.fetchone()[0]
    with raw_cursor() as cursor:
        cursor.execute(STATEMENTS[-1].select, params)
        becoming_ltfu = [row[0] for row in cursor.fetchall()]
    return Mark(last_notification, last_tracing, becoming_ltfu)


def vacuum():
    """What autovacuum does between two beats: clear the rows rolled back by the measured
    repetitions and count the new ones, so the next plans see the tables as they are."""
    with connection.cursor() as cursor:
        for model in (Notification, Tracing, Client):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def restore(marked: Mark):
    """Remove what the committed runs wrote since `marked`, and clean up after them."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_notification WHERE id > %s", [marked.last_notification])
        cursor.execute("DELETE FROM cases_tracing WHERE id > %s", [marked.last_tracing])
        cursor.execute(
            "UPDATE cases_client SET status = 'active', version = version - 1 WHERE id = ANY(%s)",
            [marked.becoming_ltfu],
        )
    vacuum()


def main():
    args = parse_args()
    site = bench_site()
    today, today_from = (args.today, "--today") if args.today else bench_today(site)
    params = scan_params(site, today)
    clients = Client.objects.filter(site=site).count()
    refills = Refill.objects.filter(client__site=site).count()
    already = Notification.objects.filter(site=site, subject_type="cases.refill").count()
    print(
        f"reminder scan · site {site.code} · today {today} ({today_from}) · {clients} clients · {refills} refills · "
        f"PostgreSQL {connection.pg_version // 10000} · {args.repeat} repetitions, each rolled back"
    )
    if already:
        print(f"note: the outbox already holds {already} refill reminders: repetitions insert only what is new")

    first = measure_interleaved(site, today, params, args.repeat)
    print(f"\n{'statement':34} {'SELECT floor rows':>17} {'INSERT floor rows':>17}")
    for statement, selected, inserted in zip(STATEMENTS, first["select_rows"], first["insert_rows"], strict=True):
        print(f"{statement.label:34} {selected:17} {inserted:17}")
    print(f"\n{'kind':20} {'scan':>8} {'SELECT floor':>13}")
    mismatched = False
    for kind, selected in per_kind(first["select_rows"]).items():
        scanned = first["counts"].get(kind, 0)
        mismatched |= scanned != selected
        print(f"{kind:20} {scanned:8} {selected:13}{'   <- differs' if scanned != selected else ''}")
    report_times(first, "first scan of the day (every repetition inserts all of the above):")

    if args.explain:
        explain(site, today, params)

    # For real: the first run commits its reminders; the second must add nothing.
    marked = mark(params)
    try:
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            with transaction.atomic(), CaptureQueriesContext(connection) as captured:
                counts = scan_refills(site=site, today=today)
            runs.append((time.perf_counter() - started, counts, len(captured.captured_queries)))
        print()
        for n, (seconds, counts, queries) in enumerate(runs, 1):
            summary = ", ".join(f"{kind} {count}" for kind, count in counts.items())
            print(f"committed run {n}: {ms(seconds).strip()} with COMMIT, {queries} queries: {summary}")
        added = sum(runs[1][1].values())
        print(f"second run added {added} notifications, tracings or status changes")

        # What beat runs every 15 minutes: everything due is already in the outbox.
        steady = measure_interleaved(site, today, params, args.repeat)
        report_times(steady, "steady state (the same scan again, everything already recorded; rolled back):")
    finally:
        if not args.keep:
            # The rolled-back repetitions also left dead rows: restore vacuums, so the next run starts alike.
            restore(marked)
            back = len(marked.becoming_ltfu)
            print(f"\nrestored the bench data ({back} clients back to active); --keep keeps the runs")

    if added:
        print("FAIL: the second run must add nothing", file=sys.stderr)
        sys.exit(1)
    if mismatched and not already:
        print("FAIL: the SELECT floor does not select what the scan inserts", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
