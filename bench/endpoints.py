"""Benchmark the endpoints against their raw SQL floors, and the client list under load
(SPEC §10, issue 8).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/basodara_bench \
        python bench/endpoints.py [--repeat 15] [--only TEXT] [--explain] [--jit]
                                  [--no-scan] [--no-load] [--load-roles social_worker,supervisor] …

On the data of bench/generate.py, with production settings (DEBUG off, bench/benchenv.py):

* each endpoint goes in-process through the real URL, middleware and view stack
  (django.test.Client, token authentication; the web page signed in with a session),
  timed interleaved with its floor on the same warm connection: the floor is the least
  raw SQL returning the same JSON (bench/floors.py), prepared through psycopg, plus the
  Fernet decryption no SQL can do. Both answers are compared: "same" means equal JSON;
* the query count comes from a separate pass (CaptureQueriesContext adds overhead), with
  each query's time; a missed budget prints where the time went and what EXPLAIN finds;
* the reminder scans (bench/scans.py) run as beat runs them: the first run of the day
  and the steady state after it, against their SELECT and INSERT floors;
* then gunicorn serves the app on loopback and a second process (wrk, or bench/loadgen.py
  where wrk is missing) loads GET /api/v1/clients/ for a bounded time and count
  (bench/load.py): requests per second, latency percentiles, non-2xx. gunicorn is always
  stopped at the end.

RATIO is median(endpoint) ÷ median(floor). `--explain` prints EXPLAIN (ANALYZE, BUFFERS)
of each endpoint's slowest query and of its floor; `--jit` measures with PostgreSQL's JIT
on (the app turns it off, basodara/settings.py). Each detail and timeline read writes an
access-log entry, as in production (the log is append-only: those entries stay). The scans leave the data as generated.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basodara.settings")

import benchenv  # noqa: E402

PRODUCTION = benchenv.production_environ()

import django  # noqa: E402

django.setup()

import floors  # noqa: E402
import load  # noqa: E402
import reminder_scan  # noqa: E402
import scans  # noqa: E402
from cryptography.fernet import InvalidToken  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone, translation  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from timing import QueryTimer, ms, p90, plan_findings  # noqa: E402

from cases import access  # noqa: E402
from cases.models import Client, Role, User  # noqa: E402
from cases.security import crypto, tokens  # noqa: E402
from reports import caseload as reports  # noqa: E402
from reports import indicators as report_indicators  # noqa: E402

ROLES = ("admin", "supervisor", "social_worker", "volunteer", "facility_staff")
IP = "127.0.0.1"  # the test client's REMOTE_ADDR, written to the access log
FERNET_TOKEN = re.compile(r'"(gAAAAA[A-Za-z0-9_=-]+)"')

# What the investigation found behind each missed budget (printed under the measured causes).
_NARROW_LIST = (
    "a reach of a few hundred clients is read twice, by DRF's COUNT and by the page, where the floor reads it\n"
    "once; and a list request's own Python (Django and DRF, the ORM building two annotated queries,\n"
    "django-filter) is ~8 ms, 1.5× a 5 ms floor by itself. Each of the two statements is also planned\n"
    "(~2.5 ms: the floor is prepared); preparing them (basodara.postgresql.prepared_cursor) gained ~8% here,\n"
    "within the noise, so the list does not (the timeline does: planning was most of its SQL). A covering\n"
    "index would make both faster, not the ratio."
)
_DETAIL = (
    "the floor is one 1.5 ms statement (check, read and access-log insert); an authenticated DRF request costs\n"
    "~2-3 ms before the view runs (see the reference), so 3× is out of reach for a Django view. Down from\n"
    "5 queries and ~20 ms through ClientSerializer to 4 queries and ~8-12 ms (cases/api/rows.py)."
)
_REPORTS = (
    "reports/caseload.py joins per-client aggregates (visits, referrals, incidents, viral loads, returns)\n"
    "to the clients in reach, each limited to them by an index-only scan of client_site_status_idx; the\n"
    "floor aggregates the same tables unrestricted, which it can afford for one site. Check that the\n"
    "index is used (VACUUM ANALYZE cases_client after bulk loads) and that JIT is off (--jit shows it on)."
)
_TIMELINE = (
    "reports/timeline.py answers with one statement (reach, policy sets, count, page and each event's fields\n"
    "as JSON), prepared on the connection (basodara.postgresql.prepared_cursor) as the floor is: its SQL\n"
    "runs within ~1.5× the floor's. The rest is fixed: an authenticated request that does nothing costs\n"
    "~2× this floor (the reference), then building the policy's querysets (reach, meetings, incidents,\n"
    "programmes), the access-log insert and DRF's rendering. 3× is out of reach for a view behind this stack."
)
KNOWN_CAUSES = {
    "GET /api/v1/clients/{id}/timeline/": _TIMELINE,
    ("GET /api/v1/clients/?page_size=10", "social_worker"): _NARROW_LIST,
    ("GET /api/v1/clients/?page_size=50", "social_worker"): _NARROW_LIST,
    ("GET /api/v1/clients/?page_size=10", "volunteer"): _NARROW_LIST,
    ("GET /api/v1/clients/?page_size=50", "volunteer"): _NARROW_LIST,
    "GET /api/v1/clients/{id}/": _DETAIL,
    "reports.caseload.caseload_by_worker()": _REPORTS,
    "reports.indicators.cascade()": _REPORTS,
    "reports.indicators.indicators()": _REPORTS,
    "GET /api/v1/reports/indicators/?site=…": _REPORTS,
    "GET /api/v1/reports/caseload/?site=…": _REPORTS,
    "GET /api/v1/reports/cascade/?site=…": _REPORTS,
    "GET /caseload/?site=… (web page)": _REPORTS,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed repetitions of each endpoint and its floor")
    parser.add_argument("--only", default="", help="measure only the endpoints whose label contains this text")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slowest query and floor of each")
    parser.add_argument("--no-scan", action="store_true", help="skip the reminder scans")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load test")
    parser.add_argument("--load-roles", default="social_worker,supervisor", help="client list under load as …")
    parser.add_argument("--load-seconds", type=float, default=20, help="per role")
    parser.add_argument("--load-requests", type=int, default=20_000, help="at most, per role")
    parser.add_argument("--load-connections", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--jit", action="store_true", help="SET jit = on on the connection measured in-process (the app sets it off)"
    )
    args = parser.parse_args()
    if args.repeat < 2:
        parser.error("--repeat must be at least 2")
    return args


# --- who asks --------------------------------------------------------------------------------------


@dataclass
class Persona:
    role: str
    user: User
    http: HttpClient
    token: str
    params: dict  # what the floors bind: user, site, view permission, time zone, address


def pick_personas(site):
    """The admin, a supervisor, and the social worker and volunteer of median reach."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.assigned_social_worker_id FROM cases_client c JOIN cases_user u "
            "ON u.id = c.assigned_social_worker_id WHERE u.site_id = %s GROUP BY 1 ORDER BY count(*), 1",
            [site.id],
        )
        workers = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT ug.user_id FROM cases_user_groups ug JOIN cases_user u ON u.id = ug.user_id "
            "JOIN cases_supportgroup sg ON sg.auth_group_id = ug.group_id "
            "JOIN cases_client_support_groups m ON m.supportgroup_id = sg.id "
            "WHERE u.role = 'volunteer' AND u.site_id = %s GROUP BY 1 ORDER BY count(*), 1",
            [site.id],
        )
        volunteers = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id "
            "WHERE ct.app_label = 'cases' AND ct.model = 'client' AND p.codename = 'view_client'"
        )
        view_client = cursor.fetchone()[0]
    users = {
        "admin": User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first(),
        "supervisor": User.objects.filter(role=Role.SUPERVISOR, site=site, is_active=True).order_by("pk").first(),
        "social_worker": User.objects.get(pk=workers[len(workers) // 2]),
        "volunteer": User.objects.get(pk=volunteers[len(volunteers) // 2]),
        "facility_staff": User.objects.filter(role=Role.FACILITY_STAFF, facility__site=site, is_active=True)
        .order_by("pk")
        .first(),
    }
    personas = {}
    for role, user in users.items():
        token, _expiry = tokens.issue(user)
        personas[role] = Persona(
            role=role,
            user=user,
            http=HttpClient(HTTP_AUTHORIZATION=f"Token {token}"),
            token=token,
            params={"user": user.pk, "site": site.pk, "perm": view_client, "tz": settings.TIME_ZONE, "ip": IP},
        )
    return personas


def pick_client(personas):
    """A client every role with a client list reaches (the social worker's and volunteer's
    both), with the longest history: its timeline fills a page."""
    from django.db.models import Count

    both = access.clients_visible_to(personas["social_worker"].user).filter(
        pk__in=access.clients_visible_to(personas["volunteer"].user).values("pk")
    )
    client = both.annotate(n=Count("visits")).order_by("-n", "pk").first()
    return client or access.clients_visible_to(personas["social_worker"].user).order_by("pk").first()


# --- floors -----------------------------------------------------------------------------------------


def raw_cursor():
    return reminder_scan.raw_cursor()  # psycopg.Cursor on Django's warm connection: prepare=True prepares


def decrypt_tokens(text):
    """Replace every Fernet ciphertext in a JSON text by its plain value (JSON-quoted)."""
    return FERNET_TOKEN.sub(lambda m: json.dumps(crypto.decrypt(m[1]), ensure_ascii=False), text)


# Marks the floors' statements, so that the run can count those prepared apart from the app's own
# (the timeline prepares its statement too).
FLOOR_MARK = "/* bench floor */ "


@dataclass
class Floor:
    statements: list  # [(sql, params)]: run in order; the last one's single value is the JSON text
    decrypt: bool = False

    def __call__(self):
        """(JSON text, seconds in SQL, seconds in all)."""
        started = time.perf_counter()
        with raw_cursor() as cursor:
            texts = []
            for sql, params in self.statements:
                cursor.execute(FLOOR_MARK + sql, params, prepare=True)
                row = cursor.fetchone()
                texts.append(row[0] if row else None)
        in_sql = time.perf_counter()
        text = texts[-1] if len(texts) == 1 else "[" + ",".join(t or "null" for t in texts) + "]"
        if self.decrypt and text:
            text = decrypt_tokens(text)
        return text, in_sql - started, time.perf_counter() - started


# --- what is measured -------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    role: str
    run: Callable  # the endpoint: returns its answer
    floor: Floor
    budget: float | None  # ratio
    query_budget: int | None
    answer: Callable  # the endpoint's answer → comparable JSON value (None: not comparable)
    floor_part: Callable = lambda value: value  # the part of the floor's JSON the answer is
    note: str = ""
    result: dict = field(default_factory=dict)


def http_get(persona, path):
    def run():
        response = persona.http.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} as {persona.role}: HTTP {response.status_code} {response.content[:200]!r}")
        return response

    return run


def json_of_response(response):
    return json.loads(response.content)


def plain_json(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def serializer_fields(persona):
    """The fields ClientSerializer gives this role, in its order (cases.api.serializers)."""
    from cases.api.serializers import ClientSerializer

    readable = set(access.client_readable_fields(persona.user))
    readable |= set(access.CLIENT_ROW_FIELDS) | {"last_visit_date", "open_referrals"}
    return [name for name in ClientSerializer.Meta.fields if name in readable]


def build_cases(personas, site, client, today):
    cases = []
    base = "http://testserver"
    for role in ROLES:
        persona = personas[role]
        fields = serializer_fields(persona)
        for size in (50, 10):
            path = f"/api/v1/clients/?page_size={size}"
            sql, params = floors.client_list(role, fields, limit=size)
            params = {**persona.params, **params, "next": f"{base}/api/v1/clients/?page=2&page_size={size}"}
            empty = role == "facility_staff"
            cases.append(
                Case(
                    label=f"GET /api/v1/clients/?page_size={size}",
                    role=role,
                    run=http_get(persona, path),
                    floor=Floor([(sql, params)], decrypt=True),
                    budget=None if empty else 3.0,
                    query_budget=5,
                    answer=json_of_response,
                    note="empty by policy: the floor is a constant, the ratio is a request's fixed cost"
                    if empty
                    else "",
                )
            )
    for role in ("admin", "supervisor", "social_worker", "volunteer"):
        persona = personas[role]
        sql, params = floors.client_detail(role, serializer_fields(persona))
        cases.append(
            Case(
                label="GET /api/v1/clients/{id}/",
                role=role,
                run=http_get(persona, f"/api/v1/clients/{client.pk}/"),
                floor=Floor([(sql, {**persona.params, **params, "client": client.pk})], decrypt=True),
                budget=3.0,
                query_budget=None,
                answer=json_of_response,
            )
        )
    for role in ("admin", "supervisor", "social_worker", "volunteer"):
        persona = personas[role]
        sql, params = floors.timeline(role, limit=50)
        next_url = f"{base}/api/v1/clients/{client.pk}/timeline/?page=2&page_size=50"
        cases.append(
            Case(
                label="GET /api/v1/clients/{id}/timeline/",
                role=role,
                run=http_get(persona, f"/api/v1/clients/{client.pk}/timeline/"),
                floor=Floor([(sql, {**persona.params, **params, "client": client.pk, "next": next_url})]),
                budget=3.0,
                query_budget=5,
                answer=json_of_response,
            )
        )

    supervisor = personas["supervisor"]
    cases += report_cases(supervisor, site)
    web = HttpClient()
    web.force_login(supervisor.user)
    caseload_floor, cascade_floor, _indicator_floor = report_floors(supervisor, site)
    cases.append(
        Case(
            label="GET /caseload/?site=… (web page)",
            role="supervisor",
            run=http_get(Persona("supervisor", supervisor.user, web, "", {}), f"/caseload/?site={site.pk}"),
            floor=Floor([caseload_floor, cascade_floor]),
            budget=2.0,
            query_budget=None,
            answer=lambda response: None,
            note="HTML; floor: the caseload and cascade SQL (the page draws the indicators from the cascade's "
            "pass over the facts, and also computes the incident report: the data hold no incidents)",
        )
    )
    return cases, web


def report_floors(persona, site):
    """The caseload, cascade and indicator floors, bound to the scope the reports resolve for
    `persona` at `site` (reports.scope: the last 30 days up to the site's today)."""
    import datetime

    from reports.scope import resolve

    scope = resolve(persona.user, {"site": str(site.pk)})
    with translation.override(settings.LANGUAGE_CODE):  # what the API answers without Accept-Language
        ltfu = report_indicators.ltfu_words(report_indicators.ltfu_days_of(persona.user, scope))
        words = {}
        for key, label, definition, *_rest in report_indicators.CASCADE_STAGES + report_indicators.CASCADE_FLOWS:
            words[f"label_{key}"] = str(label)
            words[f"definition_{key}"] = str(definition).format(ltfu=ltfu)
        for indicator in report_indicators.INDICATORS:
            words[f"name_{indicator.code}"] = str(indicator.name)
            words[f"definition_{indicator.code}"] = str(indicator.definition).format(ltfu=ltfu)
        definitions = json.dumps(reports.caseload_definitions(persona.user, scope), ensure_ascii=False)
    cuts = {f"cut{years}": report_indicators._years_before(scope.end, years) for years in (15, 20, 25, 50)}
    params = {
        **persona.params,
        "tz": str(scope.tz),
        "today": scope.today,
        "start": scope.start,
        "end": scope.end,
        "before": scope.start - datetime.timedelta(days=1),
        "six": scope.end - report_indicators.SIX_MONTHS,
        "since": scope.since,
        "until": scope.until,
        "vl_since": scope.end - datetime.timedelta(days=report_indicators.VL_WINDOW_DAYS - 1),
        "definitions": definitions,
        **cuts,
        **words,
    }
    return (
        (floors.caseload(persona.role)[0], params),
        (floors.cascade(persona.role)[0], params),
        (floors.indicators(persona.role)[0], params),
    )


def report_cases(supervisor, site):
    """The caseload, cascade and indicator reports: the functions the page and the API call,
    and the API."""
    from reports.scope import resolve

    caseload_floor, cascade_floor, indicator_floor = report_floors(supervisor, site)
    scope = resolve(supervisor.user, {"site": str(site.pk)})
    cases = [
        Case(
            label="reports.caseload.caseload_by_worker()",
            role="supervisor",
            run=lambda: reports.caseload_by_worker(supervisor.user, scope),
            floor=Floor([caseload_floor]),
            budget=2.0,
            query_budget=None,
            answer=plain_json,
            floor_part=lambda value: value["workers"],
        ),
        Case(
            label="reports.indicators.cascade()",
            role="supervisor",
            run=lambda: report_indicators.cascade(supervisor.user, scope),
            floor=Floor([cascade_floor]),
            budget=2.0,
            query_budget=None,
            answer=plain_json,
            floor_part=lambda value: {k: value[k] for k in ("stages", "flows")},
        ),
        Case(
            label="reports.indicators.indicators()",
            role="supervisor",
            run=lambda: report_indicators.indicators(supervisor.user, scope),
            floor=Floor([indicator_floor]),
            budget=2.0,
            query_budget=None,
            answer=plain_json,
            floor_part=lambda value: {k: value[k] for k in ("ltfu_days", "indicators")},
        ),
    ]
    for name, report_floor in (
        ("caseload", caseload_floor),
        ("cascade", cascade_floor),
        ("indicators", indicator_floor),
    ):
        path = f"/api/v1/reports/{name}/?site={site.pk}"
        status = supervisor.http.get(path).status_code
        if status != 200:
            print(f"note: {path} answers {status}: not measured")
            continue
        cases.append(
            Case(
                label=f"GET /api/v1/reports/{name}/?site=…",
                role="supervisor",
                run=http_get(supervisor, path),
                floor=Floor([report_floor]),
                budget=2.0,
                query_budget=4 if name == "indicators" else None,
                answer=json_of_response,
            )
        )
    return cases


# --- measuring ----------------------------------------------------------------------------------------


def first_difference(a, b, path="$"):
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return f"{path}: {a!r:.80} ≠ {b!r:.80}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'endpoint' if key in a else 'floor'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items ≠ {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r:.80} ≠ {b!r:.80}"


def measure(case, repeat):
    case.run(), case.floor()  # warm-up: plans cached, statements prepared, pages in memory
    case.run(), case.floor()
    endpoint, floor_all, floor_sql = [], [], []
    for i in range(repeat):
        # Interleaved, alternating which goes first, so drift hits both alike.
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                started = time.perf_counter()
                answer = case.run()
                endpoint.append(time.perf_counter() - started)
            else:
                text, in_sql, total = case.floor()
                floor_sql.append(in_sql)
                floor_all.append(total)

    # A separate pass counts and times the queries (capturing slows the request down).
    timer = QueryTimer()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
        case.run()
    value = case.answer(answer)
    floor_value = case.floor_part(json.loads(text)) if text else None
    if value is None:
        same = "n/a"
    else:
        difference = first_difference(value, floor_value)
        same = "same" if difference is None else f"DIFFERS {difference}"
    median, floor_median = statistics.median(endpoint), statistics.median(floor_all)
    ratio = median / floor_median
    queries = len(captured.captured_queries)
    ok = (case.budget is None or ratio <= case.budget) and (case.query_budget is None or queries <= case.query_budget)
    verdict = "—" if case.budget is None and case.query_budget is None else ("PASS" if ok else "FAIL")
    if not same.startswith(("same", "n/a")):
        verdict = "FAIL"
    case.result = {
        "median": median,
        "p90": p90(endpoint),
        "floor": floor_median,
        "floor_sql": statistics.median(floor_sql),
        "ratio": ratio,
        "queries": queries,
        "sql_time": sum(q[0] for q in timer.queries),
        "slowest": max(timer.queries, default=(0, "", None), key=lambda q: q[0]),
        "same": same,
        "verdict": verdict,
    }
    return case.result


def budget_text(case):
    parts = []
    if case.budget is not None:
        parts.append(f"≤{case.budget:g}×")
    if case.query_budget is not None:
        parts.append(f"≤{case.query_budget}q")
    return " ".join(parts) or "—"


def print_table(cases, reference=None):
    header = (
        f"{'endpoint':38} {'as':14} {'median':>8} {'p90':>8} {'floor':>8} {'(SQL)':>8} {'RATIO':>7} "
        f"{'queries':>7} {'budget':>10} {'verdict':7} JSON"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for case in cases:
        r = case.result
        print(
            f"{case.label:38} {case.role:14} {ms(r['median']):>8} {ms(r['p90']):>8} {ms(r['floor']):>8} "
            f"{ms(r['floor_sql']):>8} {r['ratio']:6.2f}× {r['queries']:>7} {budget_text(case):>10} "
            f"{r['verdict']:7} {r['same']}"
        )
    print("(times in ms: endpoint median and p90; floor median, and of it the SQL alone before decryption)")
    for case in cases:
        r = case.result
        if r["verdict"] != "FAIL" and not case.note:
            continue
        print(f"\n{r['verdict'] if r['verdict'] == 'FAIL' else 'note'}: {case.label} as {case.role}")
        if case.note:
            print(f"  {case.note}")
        if r["verdict"] == "FAIL":
            print("  cause, as measured:")
            for line in causes(case, reference):
                print(f"  - {line}")
            known = KNOWN_CAUSES.get((case.label, case.role), KNOWN_CAUSES.get(case.label, ""))
            for n, line in enumerate(known.splitlines()):
                print(f"  {'- found:' if n == 0 else '        '} {line}")


def causes(case, reference):
    """Where a missed budget's time goes: one slow query (and what its plan shows), or the
    request's own Python around quick queries."""
    r = case.result
    seconds, sql, params = r["slowest"]
    outside = max(r["median"] - r["sql_time"], 0)
    found = [
        f"{ms(r['sql_time'])} ms in {r['queries']} queries and {ms(outside)} ms outside them "
        f"(request, policy, ORM, serialisation), against a floor of {ms(r['floor'])} ms"
    ]
    if seconds >= 0.5 * r["median"] and seconds >= 0.02:
        found.append(f"slowest query {ms(seconds)} ms: {' '.join(sql.split())[:160]} …")
        found += plan_findings(sql, params)
    elif reference:
        found.append(
            f"the queries alone take {r['sql_time'] / r['floor_sql']:.1f}× the floor's SQL; the rest is per-request "
            f"Python: an authenticated request that does nothing ({reference[1]} query) takes {ms(reference[0])} ms "
            f"here, {reference[0] / r['floor']:.1f}× this floor by itself"
        )
    return found


def explain(cases):
    for case in cases:
        seconds, sql, params = case.result["slowest"]
        print(f"\n=== {case.label} as {case.role}: slowest query of the endpoint ({ms(seconds)} ms)")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print("\n".join(row[0] for row in cursor.fetchall()))
            transaction.set_rollback(True)
        for floor_sql, params in case.floor.statements:
            print(f"\n=== {case.label} as {case.role}: floor")
            with transaction.atomic(), raw_cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {floor_sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
                transaction.set_rollback(True)


# --- main ------------------------------------------------------------------------------------------------


class _Noop(APIView):
    """An authenticated API view that does nothing: what every request costs here before a view
    does any work (middleware, token authentication, DRF, rendering), whatever the endpoint.
    Registered by the bench alone (`add_noop_view`), never served by the app."""

    def get(self, request):
        return Response({"user": request.user.pk})


NOOP_PATH = "/api/v1/_bench/noop/"


def add_noop_view():
    from django.urls import clear_url_caches, path

    import basodara.urls

    basodara.urls.urlpatterns.insert(0, path(NOOP_PATH.strip("/") + "/", _Noop.as_view()))
    clear_url_caches()


def measure_reference(persona, repeat):
    """The fixed cost of an authenticated API request here: (median seconds, queries)."""
    run = http_get(persona, NOOP_PATH)
    run(), run()
    times = []
    for _ in range(repeat * 4):  # cheap: more repetitions, a steadier median
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        run()
    return statistics.median(times), len(captured.captured_queries)


def check_keys():
    """The data must have been written with the keys in use, or every read would fail."""
    cipher = Client.objects.exclude(phone="").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM cases_client WHERE id = %s", [cipher])
        stored = cursor.fetchone()[0]
    try:
        crypto.decrypt(stored)
    except InvalidToken:
        sys.exit(
            "The client data were encrypted under other keys than FIELD_ENCRYPTION_KEY: regenerate "
            "(bench/generate.py --reset) or set the keys generate.py used (bench/benchenv.py)."
        )


def bench_meta():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return {}
        cursor.execute("SELECT key, value FROM bench_meta")
        return dict(cursor.fetchall())


def main():
    args = parse_args()
    site = reminder_scan.bench_site()
    check_keys()
    if not Path(settings.STATIC_ROOT, "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)  # the manifest production pages need
    meta = bench_meta()
    scan_today, _ = reminder_scan.bench_today(site)
    today = timezone.localdate(timezone=site.tzinfo)
    personas = pick_personas(site)
    client = pick_client(personas)
    tables = ("clients", "refills", "viral loads", "visits", "referrals")
    counts = ", ".join(f"{meta[k]} {k}" for k in tables if k in meta)
    print(
        f"endpoints · site {site.code} · {counts} · {User.objects.count()} users · PostgreSQL "
        f"{connection.pg_version // 10000} · DEBUG {settings.DEBUG} · {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f} · {args.repeat} repetitions"
    )
    print(
        "as: "
        + ", ".join(f"{role} {p.user.username}" for role, p in personas.items())
        + f" · client {client.code} (id {client.pk}) for detail and timeline · reports as of {today}"
    )

    with connection.cursor() as cursor:
        if args.jit:
            cursor.execute("SET jit = on")
        cursor.execute("SHOW jit")
        print(f"jit = {cursor.fetchone()[0]} on the measured connection (basodara/settings.py sets it off; --jit)")
    add_noop_view()
    reference = measure_reference(personas["social_worker"], args.repeat)
    print(
        f"reference: an authenticated API request doing nothing (GET {NOOP_PATH}, the bench's own view) as "
        f"social_worker {ms(reference[0])} ms, {reference[1]} queries: every endpoint's fixed cost here"
    )

    cases, web = build_cases(personas, site, client, today)
    if args.only:
        cases = [c for c in cases if args.only in c.label or args.only == c.role]
    started = time.monotonic()
    try:
        for case in cases:
            measure(case, args.repeat)
            r = case.result
            print(f"  {case.label} as {case.role}: {ms(r['median'])} ms, floor {ms(r['floor'])} ms", file=sys.stderr)
    finally:
        web.logout()
    print_table(cases, reference)
    print(f"(measured in {time.monotonic() - started:.0f} s)")
    with raw_cursor() as cursor:  # the floors are prepared statements, or the ratios flatter the app
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE starts_with(statement, %s)", [FLOOR_MARK])
        prepared = cursor.fetchone()[0]
    print(f"floors prepared on the measured connection: {prepared} statement(s)")
    if not prepared:
        sys.exit("no floor was prepared: the ratios above compare against floors planned on every run")
    if args.explain:
        explain(cases)

    failed = [c for c in cases if c.result["verdict"] == "FAIL"]
    if not args.no_scan and not args.only:
        scan_verdicts = scans.run_scans(site, scan_today, max(args.repeat // 3, 3))
        failed += [v for v in scan_verdicts if v[2] == "FAIL"]
    if not args.no_load and not args.only:
        load.run_load(personas, args, PRODUCTION)
    print(f"\n{len(failed)} budget(s) missed" if failed else "\nevery budget met")


if __name__ == "__main__":
    main()
