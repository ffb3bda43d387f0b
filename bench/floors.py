"""The raw SQL floors of bench/endpoints.py: for each endpoint, the least SQL that returns
the same JSON, scoped by the same rules as cases/access.py, outreach/access.py and
referrals/access.py (SPEC §7), written by hand.

Each function returns (sql, params) for one prepared statement through psycopg. The
statement returns the whole JSON document as text; only what SQL cannot do is left to
Python: Fernet decryption of NIK, phone and address (bench/endpoints.py substitutes the
ciphertexts, and times that too). Reads that the app logs (a client's detail and
timeline) write their access-log entry in the same statement, as a data-modifying CTE.

The guardian permission ids are parameters (`perm`): a floor may know its constants.
"""

# --- who sees which clients (cases.access._scoped_clients) --------------------------------------

_USER_GRANT = (
    "SELECT g.content_object_id FROM cases_clientuserobjectpermission g "
    "WHERE g.user_id = %(user)s AND g.permission_id = %(perm)s AND (g.expires_at IS NULL OR g.expires_at > now())"
)
_GROUP_GRANT = (
    "SELECT gg.content_object_id FROM cases_clientgroupobjectpermission gg "
    "JOIN cases_user_groups ug ON ug.group_id = gg.group_id WHERE ug.user_id = %(user)s AND gg.permission_id = %(perm)s"
)
CLIENT_SCOPE = {
    "admin": "TRUE",
    "supervisor": "c.site_id = %(site)s",
    "social_worker": f"c.site_id = %(site)s AND c.id IN ({_USER_GRANT})",
    "volunteer": "c.site_id = %(site)s AND c.consent_withdrawn_on IS NULL "
    f"AND c.id IN ({_GROUP_GRANT} UNION ALL {_USER_GRANT})",
    "facility_staff": "FALSE",
}
MEETING_SCOPE = {
    "admin": "TRUE",
    "supervisor": "m.support_group_id IN (SELECT id FROM cases_supportgroup WHERE site_id = %(site)s)",
    "social_worker": "m.support_group_id IN (SELECT id FROM cases_supportgroup WHERE site_id = %(site)s)",
    "volunteer": "m.support_group_id IN (SELECT sg.id FROM cases_supportgroup sg "
    "JOIN cases_user_groups ug ON ug.group_id = sg.auth_group_id WHERE ug.user_id = %(user)s)",
}
INCIDENT_SCOPE = {
    "admin": "TRUE",
    "supervisor": "i.site_id = %(site)s",
    "social_worker": "i.site_id = %(site)s",
    "volunteer": "i.site_id = %(site)s AND (i.reported_by_id = %(user)s OR EXISTS (SELECT FROM "
    "outreach_incident_responders ir WHERE ir.incident_id = i.id AND ir.user_id = %(user)s))",
}
REFERRAL_SCOPE = {
    "admin": "TRUE",
    "supervisor": "EXISTS (SELECT FROM cases_client rc WHERE rc.id = f.client_id AND rc.site_id = %(site)s)",
    "social_worker": "f.client_id IN (SELECT id FROM visible)",
    "volunteer": "f.client_id IN (SELECT id FROM visible)",
}

# --- a client row as ClientSerializer writes it ------------------------------------------------

# `p` is a client row joined with its site's "today" (site-local) and offsets.
_ROW_SOURCE = (
    "SELECT c.*, (now() AT TIME ZONE s.timezone)::date AS today, s.ltfu_days, s.refill_upcoming_days "
    "FROM cases_client c JOIN cases_site s ON s.id = c.site_id"
)
_ARV_STATE = """CASE WHEN p.status = 'ltfu' THEN 'ltfu'
    WHEN p.status <> 'active' OR p.next_refill_due IS NULL THEN NULL
    WHEN p.next_refill_due + p.ltfu_days <= p.today THEN 'ltfu'
    WHEN p.next_refill_due < p.today THEN 'late'
    WHEN p.next_refill_due <= p.today + p.refill_upcoming_days THEN 'due'
    ELSE 'on_time' END"""
CLIENT_FIELD_SQL = {
    "id": "p.id",
    "code": "p.code",
    "site": "p.site_id",
    "full_name": "p.full_name",
    "nickname": "p.nickname",
    "sex": "p.sex",
    "date_of_birth": "p.date_of_birth",
    "phone": "p.phone",
    "address": "p.address",
    "nik": "p.nik",
    "hiv_diagnosis_date": "p.hiv_diagnosis_date",
    "art_start_date": "p.art_start_date",
    "art_facility": "p.art_facility_id",
    "regimen": "p.regimen",
    "status": "p.status",
    "consent_date": "p.consent_date",
    "consent_sms": "p.consent_sms",
    "consent_share": "p.consent_share",
    "consent_withdrawn_on": "p.consent_withdrawn_on",
    "family_disclosure": "p.family_disclosure",
    "pregnant": "p.pregnant",
    "assigned_social_worker": "p.assigned_social_worker_id",
    "companion": "p.companion_id",
    # SupportGroup's ordering is (site, name), and Site's is code.
    "support_groups": "coalesce((SELECT json_agg(sg.id ORDER BY gs.code, sg.name) FROM cases_client_support_groups m "
    "JOIN cases_supportgroup sg ON sg.id = m.supportgroup_id JOIN cases_site gs ON gs.id = sg.site_id "
    "WHERE m.client_id = p.id), '[]'::json)",
    "possible_duplicate": "p.possible_duplicate",
    "version": "p.version",
    "closed_on": "p.closed_on",
    "closure_reason": "p.closure_reason",
    "next_refill_due": "p.next_refill_due",
    "days_late": "CASE WHEN p.next_refill_due IS NULL THEN NULL ELSE greatest(p.today - p.next_refill_due, 0) END",
    "arv_state": _ARV_STATE,
    "last_visit_date": "(SELECT (v.visited_at AT TIME ZONE %(tz)s)::date FROM outreach_homevisit v "
    "WHERE v.client_id = p.id ORDER BY v.visited_at DESC LIMIT 1)",
    "open_referrals": "(SELECT count(*) FROM referrals_referral r WHERE r.client_id = p.id "
    "AND r.status IN ('draft', 'sent', 'accepted'))",
}


def client_row(fields):
    return "json_build_object(" + ", ".join(f"'{name}', {CLIENT_FIELD_SQL[name]}" for name in fields) + ")"


def client_list(role, fields, *, limit):
    """GET clients/?page_size=`limit`: count, next, previous and the first page by code."""
    scope = CLIENT_SCOPE[role]
    if role in ("social_worker", "volunteer"):
        # A reach of a few hundred clients: read it once, count it, sort it, then fetch the
        # page (scanning the code index for the few granted clients is the slower plan).
        reach = f"""
        WITH v AS MATERIALIZED (SELECT c.id, c.code FROM cases_client c WHERE {scope}),
             n AS (SELECT count(*) AS n FROM v),
             p AS ({_ROW_SOURCE} WHERE c.id IN (SELECT id FROM (SELECT id FROM v ORDER BY code LIMIT %(limit)s) t))"""
    else:
        reach = f"""
        WITH n AS (SELECT count(*) AS n FROM cases_client c WHERE {scope}),
             p AS ({_ROW_SOURCE} WHERE {scope} ORDER BY c.code LIMIT %(limit)s)"""
    # The list logs each row it returns as a read (cases.audit.log_rows): the floor does the
    # same insert.
    sql = f"""{reach},
             logged AS (INSERT INTO cases_accesslog (at, user_id, action, kind, object_type, object_id,
                                                     client_id, fields, ip, reason)
                        SELECT now(), %(user)s, 'read', 'list', 'cases.client.list', p.id::text, p.id, '[]',
                               %(ip)s, ''
                          FROM p)
        SELECT json_build_object(
            'count', n.n,
            'next', CASE WHEN n.n > %(limit)s THEN %(next)s::text END,
            'previous', NULL,
            'results', coalesce((SELECT json_agg({client_row(fields)} ORDER BY p.code) FROM p), '[]'::json)
        )::text FROM n"""
    return sql, {"limit": limit}


def client_detail(role, fields):
    """GET clients/{id}/: the row if in reach with its status history, and its access-log
    entry (cases.audit)."""
    history = f"""(SELECT coalesce(json_agg(json_build_object(
            'status', e.status, 'effective_date', e.effective_date, 'reason', e.reason,
            'recorded_by', e.recorded_by_id, 'recorded_at', {local_iso("e.recorded_at")}
        ) ORDER BY e.effective_date, e.id), '[]'::json) FROM cases_clientstatusevent e WHERE e.client_id = p.id)"""
    row = client_row(fields)[: -len(")")] + f", 'status_history', {history})"
    sql = f"""
        WITH p AS ({_ROW_SOURCE} WHERE c.id = %(client)s AND {CLIENT_SCOPE[role]}),
             logged AS (INSERT INTO cases_accesslog (at, user_id, action, kind, object_type, object_id,
                                                     client_id, fields, ip, reason)
                        SELECT now(), %(user)s, 'read', 'detail', 'cases.client.detail', p.id::text, p.id, '[]',
                               %(ip)s, ''
                          FROM p)
        SELECT {row}::text FROM p"""
    return sql, {}


# --- a client's timeline (reports.timeline) ---------------------------------------------------------


def iso(column):
    """A timestamptz as DRF's JSON encoder writes an aware UTC datetime (…Z, microseconds if any)."""
    return (
        f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"date_part('microseconds', {column})::int %% 1000000 <> 0 THEN to_char({column} AT TIME ZONE 'UTC', '.US') "
        f"ELSE '' END || 'Z'"
    )


def local_iso(column):
    """A timestamptz as DRF's DateTimeField writes it: in the default time zone (%(tz)s),
    microseconds if any, and its offset (Z for UTC)."""
    local = f"({column} AT TIME ZONE %(tz)s)"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"date_part('microseconds', {column})::int %% 1000000 <> 0 THEN to_char({local}, '.US') ELSE '' END"
        f" || CASE WHEN {offset} = interval '0' THEN 'Z' ELSE CASE WHEN {offset} < interval '0' THEN '-' ELSE '+' END"
        f" || to_char(greatest({offset}, -{offset}), 'HH24:MI') END"
    )


# Programmes a user sees (empowerment.access.programmes_visible_to): enrolments and sessions.
PROGRAMME_SCOPE = {
    "admin": "TRUE",
    "supervisor": "pr.site_id = %(site)s",
    "social_worker": "pr.site_id = %(site)s",
    "volunteer": "pr.site_id = %(site)s AND pr.support_group_id IN (SELECT sg.id FROM cases_supportgroup sg "
    "JOIN cases_user_groups ug ON ug.group_id = sg.auth_group_id WHERE ug.user_id = %(user)s)",
}
# Who reads what of the case-management cycle (casework.access): assessments, reviews and
# closures staff only; plans and actions volunteers too.
CASEWORK_READERS = ("admin", "supervisor", "social_worker")
PLAN_READERS = ("admin", "supervisor", "social_worker", "volunteer")


def timeline(role, *, limit):
    """GET clients/{id}/timeline/: count, next and the newest page of every record type the
    role reads (reports.timeline: the sixteen types of the timeline, each scoped by its
    policy). Each row carries its event's JSON, built as the union is read (cheaper to plan
    than one subquery per type for the page's rows)."""
    records = "IN (SELECT id FROM visible)"
    # type → (time, FROM and joins, WHERE, the event's fields); `d` is the record.
    sources = {
        "refill": ("d.pickup_date", "cases_refill d", f"d.client_id {records}",
                   "'pickup_date', d.pickup_date, 'days_supplied', d.days_supplied, 'next_due', d.next_due, "
                   "'facility', d.facility_id, 'missed_doses', d.missed_doses, "
                   "'returned_to_treatment', d.returned_to_treatment"),
        "viral_load": ("d.sample_date", "cases_viralload d", f"d.client_id {records}",
                       "'sample_date', d.sample_date, 'copies_per_ml', d.copies_per_ml, 'suppressed', d.suppressed"),
        "status": ("d.effective_date", "cases_clientstatusevent d", f"d.client_id {records}",
                   "'effective_date', d.effective_date, 'status', d.status, 'reason', d.reason, "
                   "'recorded_by', d.recorded_by_id"),
        "visit": ("d.visited_at", "outreach_homevisit d", f"d.client_id {records}",
                  f"'visited_at', {iso('d.visited_at')}, 'kind', d.kind, 'visitor', d.visitor_id, "
                  "'missed_doses_7d', d.missed_doses_7d, 'next_visit_date', d.next_visit_date"),
        "service": ("d.date", "outreach_servicerecord d", f"d.client_id {records}",
                    "'date', d.date, 'service', d.service, 'amount', d.amount, 'provider', d.provider_id"),
        "meeting": ("m.date", "outreach_meeting m JOIN outreach_meeting_attendees a ON a.meeting_id = m.id",
                    f"a.client_id = %(client)s AND {MEETING_SCOPE[role]}",
                    "'date', m.date, 'topic', m.topic, 'support_group', m.support_group_id"),
        "incident": ("i.reported_at", "outreach_incident i", f"i.client_id = %(client)s AND {INCIDENT_SCOPE[role]}",
                     f"'reported_at', {iso('i.reported_at')}, 'kind', i.kind, 'urgency', i.urgency, "
                     "'status', i.status"),
        "referral": ("f.created_at", "referrals_referral f", f"f.client_id = %(client)s AND {REFERRAL_SCOPE[role]}",
                     f"'created_at', {iso('f.created_at')}, 'service', f.service, 'to_facility', f.to_facility_id, "
                     "'status', f.status, 'urgency', f.urgency"),
        "enrolment": ("d.enrolled_on",
                      "empowerment_enrolment d JOIN empowerment_programme pr ON pr.id = d.programme_id",
                      f"d.client_id {records} AND {PROGRAMME_SCOPE[role]}",
                      "'enrolled_on', d.enrolled_on, 'programme', d.programme_id, 'programme_name', pr.name, "
                      "'programme_kind', pr.kind, 'outcome', d.outcome, 'outcome_on', d.outcome_on"),
        "session": ("d.date", "empowerment_programmesession d JOIN empowerment_attendance pa ON pa.session_id = d.id "
                    "JOIN empowerment_programme pr ON pr.id = d.programme_id",
                    f"pa.client_id = %(client)s AND {PROGRAMME_SCOPE[role]}",
                    "'date', d.date, 'topic', d.topic, 'programme', d.programme_id, 'programme_name', pr.name"),
        "transfer": ("d.requested_at", "transfers_transfer d JOIN cases_site fs ON fs.id = d.from_site_id "
                     "JOIN cases_site ts ON ts.id = d.to_site_id", f"d.client_id {records}",
                     f"'requested_at', {iso('d.requested_at')}, 'status', d.status, 'from_site_code', fs.code, "
                     "'to_site_code', ts.code, 'accepted_on', d.accepted_on, 'reason', d.reason"),
        "assessment": ("d.assessed_on", "casework_assessment d", f"d.client_id {records}",
                       "'assessed_on', d.assessed_on, 'kind', d.kind, 'assessor', d.assessor_id"),
        "plan": ("d.started_on", "casework_plan d", f"d.client_id {records}",
                 "'started_on', d.started_on, 'ended_on', d.ended_on, 'created_by', d.created_by_id"),
        "action": ("d.due_date", "casework_action d JOIN casework_goal g ON g.id = d.goal_id", f"d.client_id {records}",
                   "'due_date', d.due_date, 'description', d.description, 'owner', d.owner_id, 'status', d.status, "
                   "'done_on', d.done_on, 'goal_domain', g.domain"),
        "review": ("d.created_at", "casework_review d", f"d.client_id {records}",
                   f"'created_at', {iso('d.created_at')}, 'assessment', d.assessment_id, "
                   f"'reviewed_by', d.reviewed_by_id, 'signed_off_by', d.signed_off_by_id, "
                   f"'signed_off_at', {iso('d.signed_off_at')}"),
        "closure": ("d.closed_on", "casework_clientclosure d", f"d.client_id {records}",
                    "'closed_on', d.closed_on, 'reason', d.reason, 'note', d.note, 'reopened_on', d.reopened_on"),
    }  # fmt: skip
    kinds = [
        kind
        for kind in sources
        if (kind not in ("assessment", "review", "closure") or role in CASEWORK_READERS)
        and (kind not in ("plan", "action") or role in PLAN_READERS)
    ]
    union = " UNION ALL ".join(
        f"SELECT '{kind}'::text AS type, {at.split('.')[0]}.id, {at}::timestamptz AS at, "
        f"json_build_object('type', '{kind}', 'id', {at.split('.')[0]}.id, 'at', {iso(f'{at}::timestamptz')}, "
        f"{fields}) AS event FROM {from_} WHERE {where}"
        for kind, (at, from_, where, fields) in ((kind, sources[kind]) for kind in kinds)
    )
    sql = f"""
        WITH visible AS (SELECT c.id FROM cases_client c WHERE c.id = %(client)s AND {CLIENT_SCOPE[role]}),
             logged AS (INSERT INTO cases_accesslog (at, user_id, action, kind, object_type, object_id, client_id,
                                                     fields, ip, reason)
                        SELECT now(), %(user)s, 'read', 'detail', 'cases.client.timeline', v.id::text, v.id, '[]',
                               %(ip)s, ''
                          FROM visible v),
             ev AS ({union}),
             e AS (SELECT * FROM ev ORDER BY at DESC, type, id DESC LIMIT %(limit)s)
        SELECT json_build_object(
            'count', counted.n,
            'next', CASE WHEN counted.n > %(limit)s THEN %(next)s::text END,
            'previous', NULL,
            'results', coalesce((SELECT json_agg(e.event ORDER BY e.at DESC, e.type, e.id DESC) FROM e), '[]'::json)
        )::text
        FROM (SELECT count(*) AS n FROM ev) counted, visible"""
    return sql, {"limit": limit}


# --- the supervisor's reports (reports.caseload, reports.api) ---------------------------------------

# The clients a report counts (the reach narrowed to the scope's site), with the ARV state
# as of the scope's %(today)s and the day each lapsed refill makes them lost to follow-up.
_REPORT_CLIENTS = f"""
    SELECT p.id, p.status, p.status IN ('active', 'ltfu') AS in_care, p.assigned_social_worker_id AS worker,
           p.art_start_date, {_ARV_STATE} AS state, p.next_refill_due + p.ltfu_days AS ltfu_on
      FROM (SELECT c.*, %(today)s::date AS today, s.ltfu_days, s.refill_upcoming_days
              FROM cases_client c JOIN cases_site s ON s.id = c.site_id
             WHERE c.site_id = %(site)s AND {{scope}}) p"""
_SCOPE_JSON = (
    "'site', %(site)s::int, 'group', NULL, 'worker', NULL, 'period_from', %(start)s::date, 'period_to', %(end)s::date"
)


def round_half_even(numerator, denominator):
    """Python's round(numerator / denominator) for non-negative integers (SQL rounds halves up)."""
    q, r = f"(({numerator}) / ({denominator}))", f"(({numerator}) %% ({denominator}))"
    return f"({q} + CASE WHEN 2 * {r} > ({denominator}) THEN 1 WHEN 2 * {r} = ({denominator}) THEN {q} %% 2 ELSE 0 END)"


def caseload(role):
    """GET reports/caseload/: per worker, one aggregate over the clients in care, each
    figure from one set-based pass over its table (hash-joined), not a subquery per client."""
    sql = f"""
        WITH c AS ({_REPORT_CLIENTS.format(scope=CLIENT_SCOPE[role])}),
             cw AS (SELECT * FROM c WHERE c.in_care AND c.worker IS NOT NULL),
             lv AS (SELECT v.client_id, max(v.visited_at) AS at FROM outreach_homevisit v GROUP BY v.client_id),
             vp AS (SELECT v.client_id, count(*) AS n FROM outreach_homevisit v
                     WHERE v.visited_at >= %(since)s AND v.visited_at < %(until)s GROUP BY v.client_id),
             orf AS (SELECT r.client_id, count(*) AS n FROM referrals_referral r
                      WHERE r.status IN ('draft', 'sent', 'accepted') GROUP BY r.client_id),
             inc AS (SELECT i.client_id, count(*) AS n FROM outreach_incident i
                      WHERE i.status IN ('reported', 'acknowledged', 'responding') GROUP BY i.client_id),
             a AS (SELECT cw.worker, count(*) AS clients,
                          count(*) FILTER (WHERE cw.state = 'due') AS due,
                          count(*) FILTER (WHERE cw.state = 'late') AS late,
                          count(*) FILTER (WHERE cw.state = 'ltfu') AS ltfu,
                          coalesce(sum(vp.n), 0) AS visits,
                          min((lv.at AT TIME ZONE %(tz)s)::date) AS oldest,
                          count(*) FILTER (WHERE lv.at IS NULL) AS never_visited,
                          coalesce(sum(orf.n), 0) AS open_referrals,
                          coalesce(sum(inc.n), 0) AS open_incidents
                     FROM cw LEFT JOIN lv ON lv.client_id = cw.id LEFT JOIN vp ON vp.client_id = cw.id
                          LEFT JOIN orf ON orf.client_id = cw.id LEFT JOIN inc ON inc.client_id = cw.id
                    GROUP BY cw.worker)
        SELECT json_build_object({_SCOPE_JSON},
            'workers', coalesce(json_agg(json_build_object(
                'worker_id', u.id, 'worker', coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), u.username),
                'username', u.username, 'clients', a.clients, 'due', a.due, 'late', a.late, 'ltfu', a.ltfu,
                'visits', a.visits, 'days_since_last_visit', %(today)s::date - a.oldest,
                'never_visited', a.never_visited, 'open_referrals', a.open_referrals,
                'open_incidents', a.open_incidents
            ) ORDER BY u.username), '[]'::json),
            'definitions', %(definitions)s::json)::text
        FROM a JOIN cases_user u ON u.id = a.worker"""
    return sql, {}


# --- period-true figures (reports.indicators): facts per client as of the period's end -------------

# %(end)s, %(before)s (the day before the period), %(start)s, %(six)s (end − 183 days), and the
# WHO age-band cut-offs %(cut15)s … %(cut50)s (the birthdays that make 15 … 50 years on %(end)s).
_LTFU_DAYS = "(SELECT s.ltfu_days FROM cases_site s WHERE s.id = %(site)s)"
_FACTS = """
    c AS MATERIALIZED (SELECT c.id, c.sex, c.date_of_birth, c.art_start_date AS art
                         FROM cases_client c WHERE c.site_id = %(site)s AND {scope} AND c.consent_date <= %(end)s),
    le AS (SELECT DISTINCT ON (r.client_id) r.client_id, r.next_due AS due, r.days_supplied AS days,
                  r.next_due + {ltfu} AS lost_on, min(r.pickup_date) OVER (PARTITION BY r.client_id) AS first_refill
             FROM cases_refill r WHERE r.client_id IN (SELECT id FROM c) AND r.pickup_date <= %(end)s
            ORDER BY r.client_id, r.pickup_date DESC, r.id DESC),
    lb AS (SELECT DISTINCT ON (r.client_id) r.client_id, r.next_due + {ltfu} AS lost_on
             FROM cases_refill r WHERE r.client_id IN (SELECT id FROM c) AND r.pickup_date <= %(before)s
            ORDER BY r.client_id, r.pickup_date DESC, r.id DESC),
    oe AS (SELECT DISTINCT ON (e.client_id) e.client_id, e.status, e.effective_date AS day
             FROM cases_clientstatusevent e WHERE e.client_id IN (SELECT id FROM c) AND e.effective_date <= %(end)s
            ORDER BY e.client_id, e.effective_date DESC, e.id DESC),
    ob AS (SELECT DISTINCT ON (e.client_id) e.client_id, e.status
             FROM cases_clientstatusevent e WHERE e.client_id IN (SELECT id FROM c) AND e.effective_date <= %(before)s
            ORDER BY e.client_id, e.effective_date DESC, e.id DESC),
    vl AS (SELECT DISTINCT ON (v.client_id) v.client_id, v.copies_per_ml < 1000 AS below
             FROM cases_viralload v
            WHERE v.client_id IN (SELECT id FROM c) AND v.sample_date >= %({vl_from})s AND v.sample_date <= %(end)s
            ORDER BY v.client_id, v.sample_date DESC, v.id DESC),
    f AS (SELECT c.id, c.sex,
                 CASE WHEN c.date_of_birth > %(cut15)s THEN '<15' WHEN c.date_of_birth > %(cut20)s THEN '15-19'
                      WHEN c.date_of_birth > %(cut25)s THEN '20-24' WHEN c.date_of_birth > %(cut50)s THEN '25-49'
                      ELSE '50+' END AS band,
                 coalesce(le.lost_on > %(end)s AND coalesce(oe.status, 'active') = 'active', false) AS on_end,
                 coalesce(lb.lost_on > %(before)s AND coalesce(ob.status, 'active') = 'active', false) AS on_before,
                 -- least() skips a NULL: without a refill (le) there is no first ART date to count.
                 le.client_id IS NOT NULL AND coalesce(least(c.art, le.first_refill) >= %(start)s, false) AS new_art,
                 le.client_id IS NOT NULL AND coalesce(least(c.art, le.first_refill) <= %(six)s, false) AS six,
                 vl.client_id IS NOT NULL AS tested, coalesce(vl.below, false) AS below,
                 coalesce(le.days >= 90, false) AS mmd, coalesce(le.due >= %(end)s, false) AS supplied,
                 coalesce(oe.status, 'active') AS outcome, oe.day AS outcome_day
            FROM c LEFT JOIN le ON le.client_id = c.id LEFT JOIN lb ON lb.client_id = c.id
                 LEFT JOIN oe ON oe.client_id = c.id LEFT JOIN ob ON ob.client_id = c.id
                 LEFT JOIN vl ON vl.client_id = c.id)"""

# HIV.IND id, WHO code, numerator, denominator (None: a count), over the rows of `f`.
_COHORT = "(f.on_before OR f.new_art)"
INDICATOR_SQL = (
    ("HIV.IND.27", "ART.1", "f.on_end", None),
    ("HIV.IND.28", "ART.2", f"{_COHORT} AND NOT f.on_end", _COHORT),
    ("HIV.IND.30", "ART.4", "f.new_art", None),
    ("HIV.IND.32", "ART.6", "f.on_end AND f.six AND f.tested", "f.on_end AND f.six"),
    ("HIV.IND.29", "ART.3", "f.on_end AND f.six AND f.tested AND f.below", "f.on_end AND f.six AND f.tested"),
    ("HIV.IND.53", "DSD.1", "f.on_end AND f.mmd", "f.on_end"),
)
_ATTRITION_SQL = {
    "ltfu": "f.outcome = 'active'",
    "died": "f.outcome = 'deceased'",
    "stopped": "f.outcome = 'stopped'",
    "transferred_out": "f.outcome = 'transferred_out'",
}
AGE_BANDS = ("<15", "15-19", "20-24", "25-49", "50+")


def indicators(role):
    """GET reports/indicators/: the six WHO rows as of the period's end, from one pass over
    the facts per client, grouped by sex and age band, then folded into the JSON."""
    columns, rows = [], []
    for i, (hiv_id, code, numerator, denominator) in enumerate(INDICATOR_SQL):
        columns.append(f"count(*) FILTER (WHERE {numerator}) AS n{i}")
        if denominator:
            columns.append(f"count(*) FILTER (WHERE {denominator}) AS d{i}")
        by_sex = ", ".join(f"'{sex}', coalesce(sum(g.n{i}) FILTER (WHERE g.sex = '{sex}'), 0)" for sex in "FM")
        by_age = ", ".join(f"'{band}', coalesce(sum(g.n{i}) FILTER (WHERE g.band = '{band}'), 0)" for band in AGE_BANDS)
        n, d = f"coalesce(sum(g.n{i}), 0)", f"coalesce(sum(g.d{i}), 0)"
        breakdown = "NULL::json"
        if code == "ART.2":
            for key, predicate in _ATTRITION_SQL.items():
                columns.append(f"count(*) FILTER (WHERE {numerator} AND {predicate}) AS a_{key}")
            breakdown = (
                "json_build_object("
                + ", ".join(f"'{key}', coalesce(sum(g.a_{key}), 0)" for key in _ATTRITION_SQL)
                + ")"
            )
        rows.append(
            f"json_build_object('id', '{hiv_id}', 'code', '{code}', 'name', %(name_{code})s::text, "
            f"'numerator', {n}, 'denominator', {d if denominator else 'NULL::int'}, "
            f"'percent', {f'CASE WHEN {d} > 0 THEN round(100.0 * {n} / {d}, 1) END' if denominator else 'NULL'}, "
            f"'definition', %(definition_{code})s::text, 'breakdown', {breakdown}, "
            f"'by_sex', json_build_object({by_sex}), 'by_age', json_build_object({by_age}))"
        )
    facts = _FACTS.format(scope=CLIENT_SCOPE["supervisor"], ltfu=_LTFU_DAYS, vl_from="start")
    sql = f"""
        WITH {facts},
             g AS (SELECT f.sex, f.band, {", ".join(columns)} FROM f GROUP BY f.sex, f.band)
        SELECT json_build_object({_SCOPE_JSON}, 'from', %(start)s::date, 'to', %(end)s::date,
                                 'ltfu_days', {_LTFU_DAYS},
                                 'indicators', json_build_array({", ".join(rows)}))::text
          FROM g"""
    return sql, {}


CASCADE_STAGES = (  # key, the stage it is part of, predicate
    ("registered", None, "f.outcome = 'active'"),
    ("on_art", "registered", "f.on_end"),
    ("on_time", "on_art", "f.on_end AND f.supplied"),
    ("vl_tested", "on_art", "f.on_end AND f.tested"),
    ("suppressed", "vl_tested", "f.on_end AND f.tested AND f.below"),
)
CASCADE_FLOW_KEYS = ("ltfu", "returned")


def cascade(role):
    """GET reports/cascade/: the five stages as of the period's end (the viral loads of the
    12 months up to it) and the period's LTFU episodes and returns, from the refill dates."""
    stages = []
    for key, within, _predicate in CASCADE_STAGES:
        of_previous = (
            f"CASE WHEN k.{within} > 0 THEN {round_half_even(f'100 * k.{key}', f'k.{within}')} END"
            if within
            else "NULL::int"
        )
        stages.append(
            f"json_build_object('key', '{key}', 'label', %(label_{key})s::text, 'count', k.{key}, "
            f"'percent', CASE WHEN k.registered > 0 THEN {round_half_even(f'100 * k.{key}', 'k.registered')} "
            f"ELSE 0 END, 'of_previous', {of_previous}, 'definition', %(definition_{key})s::text)"
        )
    flows = [
        f"json_build_object('key', '{key}', 'label', %(label_{key})s::text, 'count', k.{key}, "
        f"'definition', %(definition_{key})s::text)"
        for key in CASCADE_FLOW_KEYS
    ]
    facts = _FACTS.format(scope=CLIENT_SCOPE[role], ltfu=_LTFU_DAYS, vl_from="vl_since")
    counts = ", ".join(f"count(*) FILTER (WHERE {predicate}) AS {key}" for key, _w, predicate in CASCADE_STAGES)
    sql = f"""
        WITH {facts},
             r AS (SELECT r.client_id, r.pickup_date, r.next_due + {_LTFU_DAYS} AS lost_on,
                          lead(r.pickup_date) OVER w AS following, lag(r.next_due + {_LTFU_DAYS}) OVER w AS previous
                     FROM cases_refill r WHERE r.client_id IN (SELECT id FROM c) AND r.pickup_date <= %(end)s
                   WINDOW w AS (PARTITION BY r.client_id ORDER BY r.pickup_date, r.id)),
             lost AS (SELECT r.client_id, min(r.lost_on) AS day FROM r
                       WHERE r.lost_on >= %(start)s AND r.lost_on <= %(end)s
                         AND (r.following IS NULL OR r.following > r.lost_on) GROUP BY r.client_id),
             back AS (SELECT DISTINCT r.client_id FROM r
                       WHERE r.pickup_date >= %(start)s AND r.previous < r.pickup_date),
             k AS (SELECT {counts},
                          count(*) FILTER (WHERE lost.client_id IS NOT NULL
                                           AND (f.outcome = 'active' OR f.outcome_day > lost.day)) AS ltfu,
                          count(back.client_id) AS returned
                     FROM f LEFT JOIN lost ON lost.client_id = f.id LEFT JOIN back ON back.client_id = f.id)
        SELECT json_build_object({_SCOPE_JSON},
            'stages', json_build_array({", ".join(stages)}),
            'flows', json_build_array({", ".join(flows)}))::text
        FROM k"""
    return sql, {}


# --- the overdue-referral scan (referrals.reminders) ---------------------------------------------

_OVERDUE = """FROM referrals_referral r JOIN cases_client c ON c.id = r.client_id
    JOIN cases_user u ON u.id = r.from_user_id
    WHERE c.site_id = %(site)s AND u.is_active
      AND ((r.status = 'sent' AND r.sent_at <= %(sent_before)s)
           OR (r.status = 'accepted' AND r.due_date < %(today)s))"""
OVERDUE_SELECT = f"SELECT r.id, r.from_user_id {_OVERDUE}"
OVERDUE_INSERT = f"""
    INSERT INTO cases_notification (kind, subject_type, subject_id, recipient_key, recipient_user_id,
                                    recipient_client_id, site_id, channel)
    SELECT 'referral_overdue', 'referrals.referral', r.id, 'user:' || r.from_user_id, r.from_user_id, NULL,
           c.site_id, 'in_app' {_OVERDUE}
       AND NOT EXISTS (SELECT FROM cases_notification n WHERE n.kind = 'referral_overdue'
                          AND n.subject_type = 'referrals.referral' AND n.subject_id = r.id
                          AND n.recipient_key = 'user:' || r.from_user_id)
    ON CONFLICT DO NOTHING"""
