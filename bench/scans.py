"""The reminder scans as beat runs them, against their raw SQL floors (bench/endpoints.py
prints them; SPEC §10: "one set-based insert into the outbox per kind, ≤ 2× its raw SQL,
and a second run adds nothing").

cases' refill scan uses bench/reminder_scan.py's statements (its SELECT and INSERT floors);
referrals' overdue scan has its floors in bench/floors.py. Each is measured as the first
run of the day and in the steady state after it (what beat runs every 15 minutes), every
repetition rolled back, and the day's first run kept only inside a transaction that is
rolled back at the end: the bench data stay as generated.
"""

import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import floors
import reminder_scan
from django.db import connection, transaction
from django.utils import timezone
from timing import QueryTimer, ms, p90

from cases.arv.reminders import scan_refills
from referrals.reminders import scan_overdue_referrals
from referrals.selectors import ACCEPT_WITHIN


@dataclass
class Scan:
    label: str
    run: Callable  # () -> counts
    select: list  # SQL selecting the same due rows, one per statement of the scan
    insert: list  # the scan's own statements written by hand
    params: Callable  # () -> params (the overdue scan's "now" moves)


def timed_scan(scan):
    """One rolled-back run: (seconds, counts, queries). Deferred FK checks are paid inside."""
    try:
        with transaction.atomic():
            timer = QueryTimer()
            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                counts = scan.run()
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                seconds = time.perf_counter() - started
            raise reminder_scan.Rollback
    except reminder_scan.Rollback:
        pass
    return seconds, counts, len(timer.queries) - 1


def timed_statements(statements, params, *, fetch):
    with transaction.atomic(), reminder_scan.raw_cursor() as cursor:
        started = time.perf_counter()
        rows = 0
        for sql in statements:
            cursor.execute(sql, params, prepare=True)
            rows += len(cursor.fetchall()) if fetch else max(cursor.rowcount, 0)
        if not fetch:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, rows


def measure_scan(scan, repeat):
    timed_scan(scan), timed_statements(scan.select, scan.params(), fetch=True)
    times = {"scan": [], "select": [], "insert": []}
    for _ in range(repeat):
        seconds, counts, queries = timed_scan(scan)
        times["scan"].append(seconds)
        params = scan.params()
        seconds, selected = timed_statements(scan.select, params, fetch=True)
        times["select"].append(seconds)
        seconds, inserted = timed_statements(scan.insert, params, fetch=False)
        times["insert"].append(seconds)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {**medians, "p90": p90(times["scan"]), "counts": counts, "queries": queries, "selected": selected,
            "inserted": inserted}  # fmt: skip


def scans_for(site, today):
    refill_params = reminder_scan.scan_params(site, today)

    def overdue_params():
        clock = timezone.localtime(timezone=site.tzinfo).timetz().replace(tzinfo=None)
        now = datetime.combine(today, clock, tzinfo=site.tzinfo)
        return {"site": site.pk, "today": today, "sent_before": now - ACCEPT_WITHIN}

    return [
        Scan(
            "cases.arv.reminders.scan_refills",
            lambda: scan_refills(site=site, today=today),
            [s.select for s in reminder_scan.STATEMENTS],
            [s.insert for s in reminder_scan.STATEMENTS],
            lambda: refill_params,
        ),
        Scan(
            "referrals.reminders.scan_overdue_referrals",
            lambda: scan_overdue_referrals(site=site, today=today),
            [floors.OVERDUE_SELECT],
            [floors.OVERDUE_INSERT],
            overdue_params,
        ),
    ]


def run_scans(site, today, repeat):
    """Each scan as the first run of the day (rolled back), then the day's first run and a
    second one committed (the second must add nothing), then the steady state that follows
    (what beat runs every 15 minutes); at the end the data are put back as generated."""
    reminder_scan.checkpoint()
    scans = scans_for(site, today)
    results = {}
    for scan in scans:
        results[(scan.label, "first run")] = measure_scan(scan, repeat)
    reminder_scan.vacuum()
    marked = reminder_scan.mark(reminder_scan.scan_params(site, today))
    committed = []
    try:
        for _ in range(2):
            started = time.perf_counter()
            with transaction.atomic():
                written = sum(sum(scan.run().values()) for scan in scans)
            committed.append((time.perf_counter() - started, written))
        reminder_scan.vacuum()
        for scan in scans:
            results[(scan.label, "steady state")] = measure_scan(scan, repeat)
    finally:
        reminder_scan.restore(marked)

    header = (
        f"{'scan':42} {'run':13} {'median':>8} {'p90':>8} {'SELECT fl':>9} {'INSERT fl':>9} {'÷SELECT':>8} "
        f"{'÷INSERT':>8} {'queries':>7} {'rows':>7} {'verdict':7}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    verdicts = []
    for (label, run), r in results.items():
        written = sum(r["counts"].values())
        ratio_select, ratio_insert = r["scan"] / r["select"], r["scan"] / r["insert"]
        # SPEC: "≤ 2× its raw SQL". A first run writes every due row: no writer can come near
        # a bare SELECT, so it is judged against the same writes by hand; once everything
        # is recorded, a run is judged against the SELECT of the due rows.
        ratio = ratio_insert if run == "first run" else ratio_select
        verdict = "PASS" if ratio <= 2.0 else "FAIL"
        if run == "steady state" and written:
            verdict = "FAIL"  # the second run must add nothing
        verdicts.append((label, run, verdict, ratio, written))
        print(
            f"{label:42} {run:13} {ms(r['scan']):>8} {ms(r['p90']):>8} {ms(r['select']):>9} {ms(r['insert']):>9} "
            f"{ratio_select:7.2f}× {ratio_insert:7.2f}× {r['queries']:>7} {written:>7} {verdict:7}"
        )
    print("(rows: notifications, tracings and status changes the run writes; budget ≤2×: a first run against its")
    print(" INSERT floor (the same writes by hand), a steady-state run against its SELECT floor; a steady-state run")
    print(" must write nothing)")
    (first, added_first), (second, added_second) = committed
    print(
        f"committed: the day's first run of both scans {ms(first)} ms wrote {added_first} rows; the second "
        f"{ms(second)} ms wrote {added_second}" + ("" if added_second == 0 else "   <- FAIL: it must add nothing")
    )
    if added_second:
        verdicts.append(("second run", "committed", "FAIL", None, added_second))
    print(f"restored the bench data ({len(marked.becoming_ltfu)} clients back to active)")
    return verdicts
