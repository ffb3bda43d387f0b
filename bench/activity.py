"""What happens to the generated clients after registration (bench/generate.py): home
visits, referrals walked through their state machine with their events and the facility
teams' grants, and the access-log entry each of these records' creation writes."""

import base64
import uuid
from datetime import date

from copying import DAY, Progress, copy_lines, copy_rows, line

from cases.models import User
from outreach.models import HomeVisit
from referrals.models import FacilityTeam, Referral, ReferralEvent

# What a visit finds, in a field worker's few words (most fields stay empty).
FINDINGS = {
    "health_complaints": ["", "", "", "batuk 2 minggu", "pusing", "diare 3 hari", "gatal di kulit", "demam malam",
                          "berat badan turun", "mual sesudah minum obat", "tidak ada keluhan"],
    "psychosocial": ["", "", "", "cemas soal status", "stabil", "sedih, baru putus", "takut ketahuan tetangga",
                     "semangat ikut KDS"],
    "family_support": ["", "", "", "istri tahu dan mendukung", "keluarga belum tahu", "ibu mengingatkan minum obat",
                       "tinggal sendiri"],
    "economic_situation": ["", "", "", "tidak bekerja", "ojek, penghasilan tidak tetap", "dagang di pasar",
                           "butuh ongkos ke klinik"],
    "services_provided": ["", "", "konseling kepatuhan", "edukasi minum obat", "antar ke puskesmas",
                          "bantuan ongkos", "cek sisa obat"],
    "needs": ["", "", "", "ongkos transport", "sembako", "pendampingan ke RSUD", "konseling keluarga"],
    "plan": ["", "kunjungan ulang 2 minggu", "antar ambil ARV", "ajak ke pertemuan KDS", "cek viral load",
             "telepon minggu depan"],
}  # fmt: skip
REFERRAL_REASONS = ["perlu tes viral load", "keluhan batuk lama, periksa TB", "ambil ARV, pindah layanan",
                    "butuh konseling", "bantuan darurat", "ibu hamil, rujuk PPIA", "periksa IMS",
                    "inisiasi ARV", "tes HIV pasangan", "pendampingan keluarga"]  # fmt: skip
REFERRAL_OUTCOMES = ["sudah dilayani", "hasil sudah keluar", "ARV diberikan", "klien datang, dikonseling",
                     "klien tidak datang", "layanan belum tersedia"]  # fmt: skip
# How a referral's story ends (weights): each path is walked step by step from its creation,
# and stops early where the next step would fall after now, so recent referrals stay open.
REFERRAL_PATHS = [
    ("completed", 50), ("not_completed", 10), ("declined", 7), ("cancel_draft", 3), ("cancel_sent", 3),
    ("cancel_accepted", 2), ("stuck_draft", 3), ("stuck_sent", 4), ("stuck_accepted", 8),
]  # fmt: skip

VISIT_COLUMNS = ("id", "client_id", "visitor_id", "visited_at", "kind", "missed_doses_7d", "pills_left",
                 *FINDINGS, "next_visit_date", "created_at", "version")  # fmt: skip
REFERRAL_COLUMNS = ("id", "client_id", "from_user_id", "from_group_id", "to_facility_id", "service", "reason",
                    "urgency", "due_date", "status", "outcome", "sent_at", "accepted_at", "closed_at", "link_nonce",
                    "version", "created_at", "updated_at")  # fmt: skip
EVENT_COLUMNS = ("id", "referral_id", "status", "actor_id", "via_link", "at", "note")


def visit_counts(rng, people, total):
    """How many visits each client had: `total` shared by time in care (active clients are
    visited more), rounded at random, then adjusted to the exact total."""
    factor = {"active": 1.0, "ltfu": 0.7}
    weights = [max(until - registered, 1) * factor.get(status, 0.5) for _, registered, until, status, *_ in people]
    scale = total / sum(weights)
    counts = [int(w * scale + rng.random()) for w in weights]
    difference = total - sum(counts)
    while difference:
        i = rng.randrange(len(counts))
        if difference > 0:
            counts[i] += 1
            difference -= 1
        elif counts[i] > 0:
            counts[i] -= 1
            difference += 1
    return counts


def add_visits(cur, rng, org, people, total, clock):
    """Home visits by the assigned social worker, outreach and phone contacts by the companion."""
    lines = []
    visit_id = 0
    workers = org["workers"]
    progress = Progress("visits", len(people))
    for (cid, registered, until, _status, worker, _group, companion, _share, withdrawn), n in zip(
        people, visit_counts(rng, people, total), strict=True
    ):
        for _ in range(n):
            by_companion = companion is not None and (worker is None or rng.random() < 0.4)
            # Volunteers reach a client only while consent lasts.
            last_day = min(until, withdrawn) if by_companion and withdrawn else until
            day = rng.randint(registered, max(registered, last_day))
            # Daytime at the site; today's visits are before now.
            minute = rng.randint(8 * 60, 17 * 60)
            at = min(day * DAY + minute, clock.now - rng.randint(1, 120))
            if by_companion:
                visitor, kind = companion, "outreach" if rng.random() < 0.6 else "phone"
            else:
                visitor, kind = worker or rng.choice(workers), "home_visit" if rng.random() < 0.8 else "consultation"
            visit_id += 1
            next_visit = date.fromordinal(at // DAY + rng.randint(14, 60)) if rng.random() < 0.6 else None
            lines.append(
                line(
                    visit_id, cid, visitor, clock.literal(at), kind,
                    rng.choice((0, 0, 0, 1, 2)) if kind != "phone" else None,
                    rng.randint(0, 90) if kind == "home_visit" else None,
                    *(rng.choice(choices) for choices in FINDINGS.values()),
                    next_visit, clock.literal(min(at + rng.randint(5, 600), clock.now)), 1,
                )
            )  # fmt: skip
        progress.update()
    progress.close()
    copy_lines(cur, HomeVisit._meta.db_table, VISIT_COLUMNS, lines, "COPY visits")
    return len(lines)


class ReferralWalk:
    """One referral taken through the state machine of referrals.services from its creation,
    each step after a random delay and none after now (so recent referrals stay open)."""

    def __init__(self, rng, now, created, sender, staff):
        self.rng, self.now, self.sender, self.staff = rng, now, sender, staff
        self.state, self.t = "draft", created
        self.events = [("draft", sender, False, created, "")]  # (status, actor, via link, at, note)
        self.sent_at = self.accepted_at = None
        self.outcome = ""

    @property
    def closed_at(self):
        return self.t if self.state in ("declined", "completed", "not_completed", "cancelled") else None

    def step(self, status, delay, actor, via_link=False, note=""):
        if self.t + delay > self.now:
            return False  # not yet: the referral stays where it is
        self.t += delay
        self.state = status
        self.events.append((status, actor, via_link, self.t, note))
        return True

    def by_facility(self, status, delay, note=""):
        link = self.rng.random() < 0.4  # done through the facility link: no account
        return self.step(status, delay, None if link else self.rng.choice(self.staff), link, note)

    def walk(self, path):
        rng, sender = self.rng, self.sender
        if path == "cancel_draft":
            self.step("cancelled", rng.randint(60, 3 * DAY), sender, note="batal, klien menolak")
        elif path != "stuck_draft" and self.step("sent", rng.randint(5, 2 * DAY), sender):
            self.sent_at = self.t
            if path == "declined":
                self.by_facility("declined", rng.randint(60, 3 * DAY), "layanan penuh")
            elif path == "cancel_sent":
                self.step("cancelled", rng.randint(60, 4 * DAY), sender, note="klien pindah")
            elif path != "stuck_sent" and self.by_facility("accepted", rng.randint(60, 3 * DAY)):
                self.accepted_at = self.t
                if path == "cancel_accepted":
                    self.step("cancelled", rng.randint(DAY, 20 * DAY), sender, note="klien meninggal dunia")
                elif path in ("completed", "not_completed"):
                    outcome = rng.choice(REFERRAL_OUTCOMES)
                    if self.by_facility(path, rng.randint(DAY, 30 * DAY), outcome):
                        self.outcome = outcome
        return self


def add_referrals(cur, rng, org, people, total, clock):
    """Referrals walked through the state machine of referrals.services, with their events."""
    facilities = org["facilities"]
    centre = next(f for f in facilities if f[2] == "centre_service")
    outside_site = [f for f in facilities if f[6] is None]
    on_site = [f for f in facilities if f[6] is not None and f[2] != "centre_service"]
    paths = [p for p, _ in REFERRAL_PATHS]
    path_weights = [w for _, w in REFERRAL_PATHS]
    # Active clients are referred most; every client in care can be.
    weights = [3 if p[3] == "active" else 1 for p in people]
    chosen = rng.choices(people, weights, k=total)
    referral_lines, event_lines = [], []
    event_id = 0
    progress = Progress("referrals", total)
    for rid, (cid, registered, until, _status, worker, group, companion, share, withdrawn) in enumerate(chosen, 1):
        if worker and (companion is None or rng.random() < 0.7):
            sender, from_group = worker, None
        elif companion:
            sender, from_group = companion, group  # a volunteer refers for the client's group
        else:
            sender, from_group = rng.choice(org["supervisors"]), None
        # Outside facilities only with consent to share (referrals.services._check_consent).
        r = rng.random()
        if not share or r < 0.15:
            facility = centre
        elif r < 0.18:
            facility = rng.choice(outside_site)
        else:
            facility = rng.choice(on_site)
        fid, services = facility[0], facility[3]
        created = rng.randint(registered, max(registered, min(until, withdrawn or until))) * DAY
        created = min(created + rng.randint(8 * 60, 16 * 60), clock.now - rng.randint(1, 600))
        due_date = date.fromordinal(created // DAY + rng.randint(7, 30)) if rng.random() < 0.5 else None
        path = rng.choices(paths, path_weights)[0]

        walk = ReferralWalk(rng, clock.now, created, sender, org["staff"][fid]).walk(path)
        nonce = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode() if walk.sent_at else ""
        referral_lines.append(
            line(
                rid, cid, sender, from_group, fid, rng.choice(services), rng.choice(REFERRAL_REASONS),
                rng.choices(("normal", "high", "critical"), (80, 15, 5))[0], due_date, walk.state, walk.outcome,
                *(clock.literal(x) if x else None for x in (walk.sent_at, walk.accepted_at, walk.closed_at)),
                "" if walk.state in ("draft", "cancelled") else nonce, len(walk.events), clock.literal(created),
                clock.literal(walk.t),
            )
        )  # fmt: skip
        for status, actor, via_link, at, note in walk.events:
            event_id += 1
            event_lines.append(line(event_id, rid, status, actor, via_link, clock.literal(at), note))
        progress.update()
    progress.close()
    copy_lines(cur, Referral._meta.db_table, REFERRAL_COLUMNS, referral_lines, "COPY referrals")
    copy_lines(cur, ReferralEvent._meta.db_table, EVENT_COLUMNS, event_lines, "COPY referral events")

    # Facility teams as referral_send leaves them: an auth group per facility that was sent
    # a referral, holding the facility's active staff, with view and respond grants on each
    # referral sent to it (also those cancelled or declined since).
    cur.execute("SELECT DISTINCT to_facility_id FROM referrals_referral WHERE sent_at IS NOT NULL ORDER BY 1")
    team_facilities = [row[0] for row in cur.fetchall()]
    first_group = org["next_group_id"]
    teams = [(first_group + i, fid) for i, fid in enumerate(team_facilities)]
    copy_rows(cur, "auth_group", ["id", "name"],
              [(g, f"facility-team-{uuid.UUID(int=rng.getrandbits(128), version=4)}") for g, _ in teams])  # fmt: skip
    copy_rows(cur, FacilityTeam._meta.db_table, ["id", "facility_id", "auth_group_id"],
              [(i, fid, g) for i, (g, fid) in enumerate(teams, 1)])  # fmt: skip
    copy_rows(cur, User.groups.through._meta.db_table, ["user_id", "group_id"],
              [(u, g) for g, fid in teams for u in org["staff"][fid]])  # fmt: skip
    cur.execute(
        """
        INSERT INTO referrals_referralgroupobjectpermission (content_object_id, group_id, permission_id)
        SELECT r.id, t.auth_group_id, p.id
          FROM referrals_referral r
          JOIN referrals_facilityteam t ON t.facility_id = r.to_facility_id
          JOIN auth_permission p ON p.codename IN ('view_referral', 'respond_referral')
          JOIN django_content_type ct ON ct.id = p.content_type_id
               AND ct.app_label = 'referrals' AND ct.model = 'referral'
         WHERE r.sent_at IS NOT NULL
        """
    )
    return {"referrals": len(referral_lines), "referral events": len(event_lines), "facility teams": len(teams),
            "referral grants": cur.rowcount}  # fmt: skip


# What the audit signals (cases.audit) write when a record is created: one entry per row,
# by its author, at its creation. (type, table, author column, client column, time column)
ACCESS_LOG_SOURCES = [
    ("cases.client", "cases_client", "assigned_social_worker_id", "id", "created_at"),
    ("cases.refill", "cases_refill", "recorded_by_id", "client_id", "created_at"),
    ("cases.viralload", "cases_viralload", "recorded_by_id", "client_id", "created_at"),
    ("outreach.homevisit", "outreach_homevisit", "visitor_id", "client_id", "created_at"),
    ("referrals.referral", "referrals_referral", "from_user_id", "client_id", "created_at"),
]


def add_access_log(cur):
    """Creation entries of every generated record, and each referral step's event and change."""
    total = 0
    progress = Progress("access log", len(ACCESS_LOG_SOURCES) + 2)
    for object_type, table, author, client, at in ACCESS_LOG_SOURCES:
        cur.execute(
            f"""
            INSERT INTO cases_accesslog (at, user_id, action, object_type, object_id, client_id, fields, ip, reason)
            SELECT t.{at}, t.{author}, 'create', %s, t.id::text, t.{client}, '[]', NULL, '' FROM {table} t
            """,
            [object_type],
        )
        total += cur.rowcount
        progress.update()
    cur.execute(
        """
        INSERT INTO cases_accesslog (at, user_id, action, object_type, object_id, client_id, fields, ip, reason)
        SELECT e.at, e.actor_id, 'create', 'referrals.referralevent', e.id::text, r.client_id, '[]', NULL, ''
          FROM referrals_referralevent e JOIN referrals_referral r ON r.id = e.referral_id
        """
    )
    total += cur.rowcount
    progress.update()
    cur.execute(
        """
        INSERT INTO cases_accesslog (at, user_id, action, object_type, object_id, client_id, fields, ip, reason)
        SELECT e.at, e.actor_id, 'update', 'referrals.referral', r.id::text, r.client_id,
               CASE e.status WHEN 'sent' THEN '["link_nonce", "sent_at", "status"]'
                             WHEN 'accepted' THEN '["accepted_at", "status"]'
                             WHEN 'completed' THEN '["closed_at", "outcome", "status"]'
                             WHEN 'not_completed' THEN '["closed_at", "outcome", "status"]'
                             ELSE '["closed_at", "status"]' END::jsonb,
               NULL, ''
          FROM referrals_referralevent e JOIN referrals_referral r ON r.id = e.referral_id
         WHERE e.status <> 'draft'
        """
    )
    total += cur.rowcount
    progress.close()
    return total
