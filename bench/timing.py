"""Small helpers the bench scripts share: percentiles, query timing, EXPLAIN reading."""

import json
import statistics
import time

from django.db import connection, transaction


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def p90(values):
    return statistics.quantiles(values, n=10, method="inclusive")[8]


class QueryTimer:
    """An execute wrapper timing each query precisely (CaptureQueriesContext rounds to ms)."""

    def __init__(self):
        self.queries = []  # (seconds, sql, params)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - started, sql, params))


def plan_findings(sql, params):
    """What EXPLAIN ANALYZE says of a slow query, in a rolled-back transaction: JIT
    compilation time, subqueries run once per outer row, parallel workers, spills to disk."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    top = (json.loads(plan) if isinstance(plan, str) else plan)[0]
    findings = []
    total = top["Execution Time"]
    jit = top.get("JIT", {}).get("Timing", {}).get("Total")
    if jit and jit > 0.1 * total:
        findings.append(
            f"JIT compilation {jit:.0f} ms of {total:.0f} ms: the planner's cost estimate passed jit_above_cost "
            "(correlated subqueries inflate it)"
        )
    subplans, workers, spills = [], [], []

    def walk(node):
        if node.get("Parent Relationship") == "SubPlan" and node.get("Actual Loops", 0) >= 1000:
            subplans.append((node["Actual Loops"], node["Actual Total Time"] * node["Actual Loops"]))
        if node.get("Workers Launched"):
            workers.append(node["Workers Launched"])
        if node.get("Sort Space Type") == "Disk" or node.get("Temp Written Blocks"):
            spills.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child)

    walk(top["Plan"])
    if subplans:
        loops = max(n for n, _ in subplans)
        spent = sum(t for _, t in subplans)
        findings.append(
            f"{len(subplans)} correlated subqueries run once per row ({loops:,} rows), about {spent:.0f} ms "
            "in all where one set-based pass per table (a hash join) reads each table once"
        )
    if workers:
        findings.append(f"parallel plan ({max(workers)} workers): their start-up is part of a short query's time")
    if spills:
        findings.append(f"spills to disk in {', '.join(sorted(set(spills)))} (work_mem)")
    return findings
