"""Demo data of the Ternate site, made through the services exactly as the app makes it.

bin/run calls this on every start, so it does nothing once the site exists. The clients
come from a fixed random seed: the same people every time, with dates counted back from
today so that the demo never looks stale. Their ARV follow-up too: refill histories whose
last pick-up puts today's clients on time, due, late or lost in realistic shares, viral
loads, and one reminder scan at the end, so tracing tasks and inbox messages are there.
"""

import random
from datetime import timedelta

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cases import outbox, services
from cases.arv import services as arv_services
from cases.models import (
    Client,
    ClientStatus,
    DaysSupplied,
    Facility,
    FacilityKind,
    FamilyDisclosure,
    GroupKind,
    Refill,
    Role,
    Sex,
    Site,
    Tracing,
    TracingStatus,
    User,
    ViralLoad,
)
from cases.selectors import ArvState, with_arv_state

SITE_CODE = "TTE"
SITE_NAME = "Sentra Wasana Bahagia Ternate"
# One password for every demo account; it passes the project's password validators.
DEMO_PASSWORD = "Basodara-demo-2026"

# Accounts: username, role, first name, last name ("" for the many who have one name only).
STAFF = [
    ("supervisor", Role.SUPERVISOR, "Nurlaila", "Syarif"),
    ("pekerja1", Role.SOCIAL_WORKER, "Rahmawati", ""),
    ("pekerja2", Role.SOCIAL_WORKER, "Sofyan", "Marsaoly"),
    ("pekerja3", Role.SOCIAL_WORKER, "Fitriani", ""),
]
# Support groups with their two volunteers; the first one coordinates the group. Names go
# without the kind: the app shows "LKS Mitra Sehati" from kind and name.
GROUPS = [
    (GroupKind.LKS, "Mitra Sehati", [("pendamping1", "Hasanudin", ""), ("pendamping2", "Yuliana", "Sibua")]),
    (GroupKind.LKS, "Maluku Peduli", [("pendamping3", "Ikbal", "Soamole"), ("pendamping4", "Marni", "")]),
    (GroupKind.KDS, "Sahabat Kie Raha", [("pendamping5", "Ardi", ""), ("pendamping6", "Nona", "Tomagola")]),
]
# Facilities with the services they offer and their staff account (None: no account).
FACILITIES = [
    (
        "Klinik VCT/PDP RSUD Dr. H. Chasan Boesoirie",
        FacilityKind.HOSPITAL_CLINIC,
        ["vct", "art_initiation", "art_refill", "viral_load", "tb", "pmtct", "sti"],
        ("klinik", "Sri", "Wahyuni"),
    ),
    ("Puskesmas Kalumpang", FacilityKind.PUSKESMAS, ["vct", "art_refill", "tb", "sti"], ("puskesmas", "Hamdan", "")),
    (
        "Layanan Sentra Wasana Bahagia",
        FacilityKind.CENTRE_SERVICE,
        ["emergency_aid", "counselling", "family_strengthening", "economic_empowerment", "shelter"],
        None,
    ),
]

MALE_NAMES = [
    "Rusdi",
    "Sukardi",
    "Fadli",
    "Ardiansyah",
    "Rizal",
    "Samsul",
    "Jufri",
    "Hamid",
    "Irfan",
    "Rahmat",
    "Yusran",
    "Asrul",
    "Fandi",
    "Yohanis",
    "Marten",
    "Nasrun",
    "Gunawan",
    "Hendra",
    "Muhammad Rizki",
]
FEMALE_NAMES = [
    "Nurhayati",
    "Wati",
    "Rahma",
    "Sitti",
    "Fatma",
    "Nurlela",
    "Yanti",
    "Hasna",
    "Marlina",
    "Salma",
    "Desi",
    "Irma",
    "Agustina",
    "Maria",
    "Sri",
    "Nurjana",
    "Rosmawati",
    "Halija",
    "Suryani",
    "Fitri",
]
FAMILY_NAMES = [
    "Umasangaji",
    "Sibua",
    "Soamole",
    "Marsaoly",
    "Kaunar",
    "Djafar",
    "Baguna",
    "Fabanyo",
    "Tomagola",
    "Abdullah",
    "Hasan",
    "Ibrahim",
    "Salim",
    "Talib",
    "Mahmud",
    "Sangadji",
]
# What friends call them; the reminder SMS greets clients by nickname.
NICKNAMES = {
    "Nurhayati": "Yati",
    "Ardiansyah": "Ardi",
    "Rosmawati": "Ros",
    "Agustina": "Tina",
    "Nurjana": "Ana",
    "Gunawan": "Gun",
    "Muhammad Rizki": "Kiki",
    "Yohanis": "Anis",
    "Halija": "Ija",
    "Samsul": "Sul",
}
KELURAHAN = [
    "Kalumpang",
    "Gamalama",
    "Bastiong Karance",
    "Bastiong Talangame",
    "Dufa-Dufa",
    "Sasa",
    "Akehuda",
    "Makassar Timur",
    "Makassar Barat",
    "Soasio",
    "Kalumata",
    "Tanah Raja",
    "Salahudin",
    "Toboko",
]
PHONE_PREFIXES = ["812", "813", "852", "853"]

CLIENTS = 58  # and two re-registrations of them, flagged as possible duplicates: 60 in all
# Statuses of the 58, shuffled: mostly active, a few of every other state.
STATUSES = (
    [ClientStatus.LTFU] * 4 + [ClientStatus.TRANSFERRED_OUT] * 2 + [ClientStatus.STOPPED] * 2 + [ClientStatus.DECEASED]
)

# Today's ARV state of the clients in care (active or lost), as shares of them: the last
# refill is chosen to land each client in one. LATE_SHORT is 1-6 days late (reminded),
# LATE_TRACING 7-27 days (a tracing task), LOST 28 or more (the scan marks them lost);
# every client whose status is `ltfu` is among the lost, the rest of LOST lapsed just now.
LATE_SHORT, LATE_TRACING, LOST = "late_short", "late_tracing", "lost"
ARV_SHARES = {ArvState.DUE: 0.10, LATE_SHORT: 0.10, LATE_TRACING: 0.08, LOST: 0.12}  # the rest on time
# Months between pick-ups once a client is stable on ART (MMD), with their weights.
MMD_PROFILES = ([30, 60, 90, 180], [3, 3, 3, 1])
# Clients whose history has an interruption past the LTFU threshold and a return.
RETURNED = 2

# What a re-registration shares with the first registration of the same person.
SAME_PERSON = (
    "nickname",
    "sex",
    "date_of_birth",
    "nik",
    "hiv_diagnosis_date",
    "art_start_date",
    "art_facility",
    "regimen",
)


class Command(BaseCommand):
    help = "Create the demo data of the Ternate site (does nothing if the site already exists)."

    def handle(self, *args, **options):
        if Site.objects.filter(code=SITE_CODE).exists():
            self.stdout.write(f"Demo data is already there (site {SITE_CODE}); nothing changed.")
            return
        # All or nothing: a failure, or a second run racing this one (the site code is
        # unique), leaves no half-made site behind.
        with transaction.atomic():
            accounts, clients = seed()
        flagged = sum(c.possible_duplicate for c in clients)
        self.stdout.write(
            f"Created site {SITE_CODE} with {len(accounts)} accounts and {len(clients)} clients "
            f"({flagged} flagged as possible duplicates)."
        )
        self.stdout.write(_arv_summary(clients))
        self.stdout.write("")
        self.stdout.write(f"{'username':<14}{'role':<16}password")
        for user in accounts:
            self.stdout.write(f"{user.username:<14}{user.role:<16}{DEMO_PASSWORD}")


def seed():
    """Make the site, its organisation and clients; return (accounts, clients)."""
    rng = random.Random(2026)
    site = Site(name=SITE_NAME, code=SITE_CODE, timezone="Asia/Jayapura")
    site.full_clean()
    site.save()
    today = timezone.localdate(timezone=site.tzinfo)

    admin = User.objects.create_superuser("admin", password=DEMO_PASSWORD, first_name="Irwan")
    accounts = [admin]

    def account(username, role, first_name, last_name, **where):
        user = services.user_create(
            actor=admin,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            first_name=first_name,
            last_name=last_name,
            **where,
        )
        accounts.append(user)
        return user

    facilities = []
    for name, kind, offered, _ in FACILITIES:
        facility = Facility(name=name, kind=kind, services=offered, site=site)
        facility.full_clean()
        facility.save()
        facilities.append(facility)
    hospital, puskesmas, _ = facilities

    supervisor, *workers = [account(*row, site=site) for row in STAFF]

    volunteers = {}  # support group -> its volunteers
    for kind, name, members in GROUPS:
        group = services.support_group_create(site=site, kind=kind, name=name)
        volunteers[group] = [
            account(username, Role.VOLUNTEER, first, last, site=site, support_groups=[group])
            for username, first, last in members
        ]
        services.support_group_update(group=group, coordinator=volunteers[group][0])

    for facility, (*_, staff) in zip(facilities, FACILITIES, strict=False):
        if staff:
            username, first, last = staff
            account(username, Role.FACILITY_STAFF, first, last, facility=facility)

    def make_person(serial):
        return _person(rng, today, serial, site, [hospital, puskesmas], workers, volunteers)

    people = [make_person(serial) for serial in range(1, CLIENTS + 1)]
    statuses = STATUSES + [ClientStatus.ACTIVE] * (CLIENTS - len(STATUSES))
    rng.shuffle(statuses)
    for person, status in zip(people, statuses, strict=False):
        person["status"] = status
    young_women = [
        p
        for p in people
        if p["sex"] == Sex.FEMALE
        and p["status"] == ClientStatus.ACTIVE
        and (today - p["date_of_birth"]).days < 38 * 365
    ]
    for person in rng.sample(young_women, 2):
        person["pregnant"] = True

    # Every client is registered active: the reminder scan at the end finds the lapsed refills
    # of those lost to follow-up and marks them, as it did when it happened; deaths, transfers
    # and stops are recorded after their history, with the day they happened (SPEC §12.1).
    clients = [
        services.client_register(actor=supervisor, **{**person, "status": ClientStatus.ACTIVE}) for person in people
    ]
    planned_status = {client.pk: person["status"] for client, person in zip(clients, people, strict=True)}

    # Two people registered twice, as happens when they come back through another door:
    # once with the same NIK under a shorter spelling of the name, once with the same name
    # and birth date but no NIK. The app flags both pairs for the supervisor.
    with_nik = rng.choice([p for p in people if p["nik"] and " " in p["full_name"]])
    without_nik = rng.choice([p for p in people if not p["nik"] and p is not with_nik])
    for original, changes in [
        (with_nik, {"full_name": with_nik["full_name"].split()[0]}),
        (without_nik, {"full_name": without_nik["full_name"].upper(), "nik": ""}),
    ]:
        # The same person and history; contact, consent and who looks after them are new.
        again = make_person(0)
        again.update({field: original[field] for field in SAME_PERSON}, **changes)
        again["consent_date"] = today - timedelta(days=rng.randint(0, 60))
        clients.append(services.client_register(actor=supervisor, **again))

    # Two clients withdrew their consent after a while: volunteers lose them, SMS stops.
    active = [c for c in clients if planned_status.get(c.pk, c.status) == ClientStatus.ACTIVE]
    for client in rng.sample(active, 2):
        withdrawn = client.consent_date + timedelta(days=rng.randint(0, (today - client.consent_date).days))
        services.client_update(actor=supervisor, client=client, consent_withdrawn_on=withdrawn, consent_sms=False)

    # A caseload handed over between workers: the former one loses access at once.
    handed_over = rng.choice([c for c in clients if c.assigned_social_worker == workers[0]])
    services.client_assign(actor=supervisor, client=handed_over, social_worker=workers[1])

    # Their ARV follow-up, on clients read back as they are now (reassigned, consent withdrawn).
    clients = list(Client.objects.filter(site=site).select_related("assigned_social_worker").order_by("pk"))
    _arv_follow_up(rng, today, clients, planned_status, supervisor, hospital, puskesmas)
    _outcomes(rng, today, planned_status, supervisor)
    # One scan now, as beat would have run it: tracing tasks, lost clients and inbox rows.
    # Delivery is left to the worker that bin/run starts next.
    outbox.run_all()
    # The other apps' records of the site (programmes and their outcomes, …): each app that
    # has demo data says so with a `seed_demo` on its AppConfig; cases imports none of them.
    # A hook that makes accounts returns them, so that they are printed with the others.
    for config in apps.get_app_configs():
        if hasattr(config, "seed_demo"):
            accounts.extend(config.seed_demo(site=site, today=today) or [])

    # Read them back: registering a duplicate also flags the client registered before it,
    # and the scan marked the lost ones.
    return accounts, list(Client.objects.filter(site=site))


OUTCOME_REASONS = {
    ClientStatus.DECEASED: "Meninggal dunia; kabar dari keluarga kepada pendamping.",
    ClientStatus.TRANSFERRED_OUT: "Pindah ke luar Maluku Utara; melanjutkan ARV di RS tujuan.",
    ClientStatus.STOPPED: "Menolak melanjutkan pendampingan setelah dikunjungi dua kali.",
}


def _outcomes(rng, today, planned_status, supervisor):
    """The deaths, transfers and stops, each on a day after the last pick-up, most often a few
    weeks after that supply ran out."""
    ended = [pk for pk, status in planned_status.items() if status in OUTCOME_REASONS]
    for client in Client.objects.filter(pk__in=ended).select_related("last_refill").order_by("pk"):
        status = planned_status[client.pk]
        last = client.last_refill
        day = min(today, last.pickup_date + timedelta(days=rng.randint(7, last.days_supplied + 45)))
        services.client_status_change(
            actor=supervisor, client=client, status=status, effective_date=day, reason=OUTCOME_REASONS[status]
        )


def _arv_follow_up(rng, today, clients, planned_status, supervisor, hospital, puskesmas):
    """Refill histories and viral loads of every client, through the services."""
    # Re-registrations (not in `planned_status`) came back recently: a short, current history.
    again = [c for c in clients if c.pk not in planned_status]
    in_care = [c for c in clients if planned_status.get(c.pk) in (ClientStatus.ACTIVE, ClientStatus.LTFU)]
    lost = [c for c in in_care if planned_status[c.pk] == ClientStatus.LTFU]
    # Clients a few weeks on ART cannot be long overdue yet: they are on time or due.
    new = [c for c in in_care if c not in lost and (today - c.art_start_date).days < 90]
    rest = [c for c in in_care if c not in lost and c not in new]
    counts = {state: round(share * len(in_care)) for state, share in ARV_SHARES.items()}
    counts[LOST] = max(counts[LOST] - len(lost), 0)
    states = [state for state, count in counts.items() for _ in range(count)]
    states += [ArvState.ON_TIME] * (len(rest) - len(states))
    rng.shuffle(states)
    plan = {c.pk: (LOST, True) for c in lost}
    plan.update({c.pk: (state, False) for c, state in zip(rest, states, strict=True)})
    plan.update({c.pk: (rng.choice([ArvState.ON_TIME, ArvState.DUE]), False) for c in new + again})
    # Long on ART, on time today, and once lost for a while: they count as returned to treatment.
    veterans = [c for c in rest if plan[c.pk][0] == ArvState.ON_TIME and (today - c.art_start_date).days > 3 * 365]
    returning = rng.sample(veterans, min(RETURNED, len(veterans)))

    for client in clients:
        actor = rng.choice([client.assigned_social_worker or supervisor] * 4 + [supervisor])
        profile = rng.choices(*MMD_PROFILES)[0]
        if client.pk in plan:
            state, long_lost = plan[client.pk]
            last, days = _last_refill(rng, today, client, profile, state, long_lost)
            if client in again:
                since = client.consent_date
            elif long_lost:  # their history ends where they stopped coming
                since = last - timedelta(days=rng.randint(365, 2 * 365))
            else:
                since = today - timedelta(days=rng.randint(365, 3 * 365))
        else:  # transferred out, stopped, deceased: the history ended months ago
            state = None
            last = max(today - timedelta(days=rng.randint(90, 540)), client.art_start_date)
            days = _supply(rng, client, profile, last)
            since = last - timedelta(days=rng.randint(365, 2 * 365))
        if client in returning:  # long enough for a lapse and a return
            since = today - timedelta(days=3 * 365)
        pickups = _history(rng, client, profile, last, days, since, returned=client in returning)
        poor = state in (LATE_SHORT, LATE_TRACING, LOST)
        for pickup, supplied, lapsed in pickups:
            if lapsed:  # back after an interruption: meanwhile they had been marked lost
                client = services.client_update(actor=supervisor, client=client, status=ClientStatus.LTFU)
            arv_services.refill_record(
                actor=actor,
                client=client,
                facility=_refill_facility(rng, client, pickup, hospital, puskesmas),
                pickup_date=pickup,
                days_supplied=supplied,
                missed_doses=rng.randint(1, 7) if rng.random() < (0.3 if poor else 0.12) else 0,
            )
        _viral_loads(rng, today, client, actor, end=pickups[-1][0] if state is None else today, poor=poor)


def _mmd(client, profile, on):
    """The most days a client with MMD `profile` takes home on `on`: one month for the first
    half year on ART, two in the rest of the first year, three in the second, then `profile`."""
    months = (on - client.art_start_date).days / 30.4
    caps = [(6, DaysSupplied.ONE_MONTH), (12, DaysSupplied.TWO_MONTHS), (24, DaysSupplied.THREE_MONTHS)]
    return next((min(profile, cap) for below, cap in caps if months < below), profile)


def _supply(rng, client, profile, on):
    """Days supplied at a pick-up on `on`; now and then one month only (stock, a check-up)."""
    return _mmd(client, profile, on) if rng.random() < 0.85 else DaysSupplied.ONE_MONTH


def _before(client, profile, supplied, following, extra):
    """The pick-up `supplied` (+ `extra`) days before `following`, shortened to what was allowed then."""
    pickup = following - timedelta(days=supplied + extra)
    while supplied > _mmd(client, profile, pickup):
        supplied = _mmd(client, profile, pickup)
        pickup = following - timedelta(days=supplied + extra)
    return pickup, supplied


def _last_refill(rng, today, client, profile, state, long_lost):
    """(pick-up date, days supplied) of the latest refill, so that today `client` is in `state`."""
    supplied = _supply(rng, client, profile, today)
    if state == ArvState.ON_TIME:  # days from today to the next due date
        until_due = rng.randint(4, supplied)
    elif state == ArvState.DUE:
        until_due = rng.randint(0, 3)
    elif state == LATE_SHORT:
        until_due = -rng.randint(1, 6)
    elif state == LATE_TRACING:
        until_due = -rng.randint(7, 27)
    else:  # lost long ago, or just past the threshold
        until_due = -rng.randint(60, 400) if long_lost else -rng.randint(29, 45)
    pickup, allowed = _before(client, profile, supplied, today, -until_due)
    if allowed < supplied and state == ArvState.ON_TIME:  # a shorter supply: due sooner
        until_due = min(until_due, allowed)
        pickup = today - timedelta(days=allowed - until_due)
    # Someone who started ART days ago picked up once, at the start.
    return max(pickup, client.art_start_date), allowed


def _history(rng, client, profile, last, days, since, returned):
    """[(pick-up date, days supplied, back after a lapse)] from `since` (not before ART start)
    to `last`. Built backwards from the latest pick-up: each earlier one lies its supply
    before the next, give or take the days people come early or late."""
    start = max(since, client.art_start_date)
    pickups = [(last, days, False)]
    lapse_at = rng.randint(1, 3) if returned else None
    while True:
        lapse = len(pickups) == lapse_at
        # Days late to the following pick-up: mostly a little early or late, or lost a while.
        extra = rng.randint(40, 120) if lapse else rng.choice([-4, -3, -2, -1, -1, 0, 0, 0, 1, 2, 3, 5, 8, 12])
        following = pickups[-1][0]
        pickup, supplied = _before(client, profile, _supply(rng, client, profile, following), following, extra)
        if pickup < start:
            break
        if lapse:
            pickups[-1] = (*pickups[-1][:2], True)
        pickups.append((pickup, supplied, False))
    return pickups[::-1]


def _refill_facility(rng, client, pickup, hospital, puskesmas):
    """The hospital clinic starts everyone; then mostly their own ART facility."""
    if (pickup - client.art_start_date).days < 183:
        return hospital
    own = client.art_facility or hospital
    other = puskesmas if own == hospital else hospital
    return own if rng.random() < 0.85 else other


def _viral_loads(rng, today, client, actor, end, poor):
    """Most clients six months on ART have one to three results from the last two years."""
    first = max(client.art_start_date + timedelta(days=183), today - timedelta(days=730))
    end = min(end, today - timedelta(days=3))
    if first > end or rng.random() < 0.1:
        return
    span = (end - first).days
    dates = sorted({first + timedelta(days=rng.randint(0, span)) for _ in range(rng.choice([1, 2, 2, 3]))})
    for sample_date in dates:
        if rng.random() < (0.35 if poor else 0.12):
            copies = int(10 ** rng.uniform(3.05, 5.5))  # unsuppressed
        elif rng.random() < 0.7:
            copies = rng.choice([0, 20, 40])  # undetectable (lab reports "< 50" as a number below 50)
        else:
            copies = rng.randint(50, 999)  # suppressed, detectable
        arv_services.viral_load_record(actor=actor, client=client, sample_date=sample_date, copies_per_ml=copies)


def _arv_summary(clients):
    """One line on the ARV follow-up the demo shows today."""
    pks = [c.pk for c in clients]
    states = dict.fromkeys([ArvState.ON_TIME, ArvState.DUE, ArvState.LATE, ArvState.LTFU], 0)
    for state in with_arv_state(Client.objects.filter(pk__in=pks)).values_list("arv_state", flat=True):
        if state:
            states[state] += 1
    refills = Refill.objects.filter(client__in=pks).count()
    loads = ViralLoad.objects.filter(client__in=pks).count()
    tracings = Tracing.objects.filter(client__in=pks, status=TracingStatus.OPEN).count()
    today = ", ".join(f"{count} {state}" for state, count in states.items())
    return f"ARV: {refills} refills, {loads} viral loads; today {today}; {tracings} tracing tasks open."


def _person(rng, today, serial, site, art_facilities, workers, volunteers):
    """The registration fields of one made-up client; `serial` > 0 gives about a third a NIK."""
    sex = rng.choice(Sex.values)
    given = rng.choice(MALE_NAMES if sex == Sex.MALE else FEMALE_NAMES)
    full_name = given if rng.random() < 0.4 else f"{given} {rng.choice(FAMILY_NAMES)}"
    # Aged 18 to 65, diagnosed in the last 8 years but not before 16.
    date_of_birth = today - timedelta(days=rng.randint(18 * 366, 65 * 365))
    latest_back = min(8 * 365, (today - date_of_birth).days - 16 * 366)
    diagnosed = today - timedelta(days=rng.randint(14, latest_back))
    # Treat-all: ART starts within days or weeks of the diagnosis.
    art_start = min(diagnosed + timedelta(days=rng.randint(0, 30)), today)
    # TLD is first line since about 2020; some who started earlier still take TLE.
    regimen = "TLD" if (today - art_start).days < 5 * 365 or rng.random() < 0.6 else "TLE"
    phone = f"+62{rng.choice(PHONE_PREFIXES)}{rng.randint(0, 10**8 - 1):08d}" if rng.random() < 0.9 else ""
    group = rng.choice(list(volunteers)) if rng.random() < 0.85 else None
    return {
        "site": site,
        "full_name": full_name,
        "nickname": NICKNAMES.get(given, given.split()[0]),
        "sex": sex,
        "date_of_birth": date_of_birth,
        "phone": phone,
        "address": f"RT {rng.randint(1, 12):03d}/RW {rng.randint(1, 6):03d}, Kel. {rng.choice(KELURAHAN)}, Ternate",
        "nik": _nik(rng, sex, date_of_birth, serial) if serial and rng.random() < 1 / 3 else "",
        "hiv_diagnosis_date": diagnosed,
        "art_start_date": art_start,
        "art_facility": rng.choices(art_facilities, weights=[7, 3])[0],
        "regimen": regimen,
        "consent_date": diagnosed + timedelta(days=rng.randint(0, (today - diagnosed).days)),
        "consent_sms": bool(phone) and rng.random() < 0.6,
        "consent_share": rng.random() < 0.7,
        "family_disclosure": rng.choice(FamilyDisclosure.values),
        "assigned_social_worker": rng.choice(workers),
        # The companion is a volunteer of the client's own group.
        "companion": rng.choice(volunteers[group]) if group and rng.random() < 0.85 else None,
        "support_groups": [group] if group else [],
    }


def _nik(rng, sex, date_of_birth, serial):
    """A NIK of Kota Ternate (8271): district, birth date (day + 40 for women), serial."""
    day = date_of_birth.day + (40 if sex == Sex.FEMALE else 0)
    return f"8271{rng.randint(1, 7):02d}{day:02d}{date_of_birth:%m%y}{serial:04d}"
