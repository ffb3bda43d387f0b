"""Demo data of the Ternate site, made through the services exactly as the app makes it.

bin/run calls this on every start, so it does nothing once the site exists. The clients
come from a fixed random seed: the same people every time, with dates counted back from
today so that the demo never looks stale.
"""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cases import services
from cases.models import (
    Client,
    ClientStatus,
    Facility,
    FacilityKind,
    FamilyDisclosure,
    GroupKind,
    Role,
    Sex,
    Site,
    User,
)

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
    "Rusdi", "Sukardi", "Fadli", "Ardiansyah", "Rizal", "Samsul", "Jufri", "Hamid", "Irfan", "Rahmat",
    "Yusran", "Asrul", "Fandi", "Yohanis", "Marten", "Nasrun", "Gunawan", "Hendra", "Muhammad Rizki",
]
FEMALE_NAMES = [
    "Nurhayati", "Wati", "Rahma", "Sitti", "Fatma", "Nurlela", "Yanti", "Hasna", "Marlina", "Salma",
    "Desi", "Irma", "Agustina", "Maria", "Sri", "Nurjana", "Rosmawati", "Halija", "Suryani", "Fitri",
]
FAMILY_NAMES = [
    "Umasangaji", "Sibua", "Soamole", "Marsaoly", "Kaunar", "Djafar", "Baguna", "Fabanyo", "Tomagola",
    "Abdullah", "Hasan", "Ibrahim", "Salim", "Talib", "Mahmud", "Sangadji",
]
# What friends call them; the reminder SMS greets clients by nickname.
NICKNAMES = {
    "Nurhayati": "Yati", "Ardiansyah": "Ardi", "Rosmawati": "Ros", "Agustina": "Tina", "Nurjana": "Ana",
    "Gunawan": "Gun", "Muhammad Rizki": "Kiki", "Yohanis": "Anis", "Halija": "Ija", "Samsul": "Sul",
}
KELURAHAN = [
    "Kalumpang", "Gamalama", "Bastiong Karance", "Bastiong Talangame", "Dufa-Dufa", "Sasa", "Akehuda",
    "Makassar Timur", "Makassar Barat", "Soasio", "Kalumata", "Tanah Raja", "Salahudin", "Toboko",
]
PHONE_PREFIXES = ["812", "813", "852", "853"]

CLIENTS = 58  # and two re-registrations of them, flagged as possible duplicates: 60 in all
# Statuses of the 58, shuffled: mostly active, a few of every other state.
STATUSES = (
    [ClientStatus.LTFU] * 4
    + [ClientStatus.TRANSFERRED_OUT] * 2
    + [ClientStatus.STOPPED] * 2
    + [ClientStatus.DECEASED]
)

# What a re-registration shares with the first registration of the same person.
SAME_PERSON = (
    "nickname", "sex", "date_of_birth", "nik", "hiv_diagnosis_date", "art_start_date", "art_facility", "regimen",
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
            actor=admin, username=username, password=DEMO_PASSWORD, role=role,
            first_name=first_name, last_name=last_name, **where,
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

    for facility, (*_, staff) in zip(facilities, FACILITIES):
        if staff:
            username, first, last = staff
            account(username, Role.FACILITY_STAFF, first, last, facility=facility)

    def make_person(serial):
        return _person(rng, today, serial, site, [hospital, puskesmas], workers, volunteers)

    people = [make_person(serial) for serial in range(1, CLIENTS + 1)]
    statuses = STATUSES + [ClientStatus.ACTIVE] * (CLIENTS - len(STATUSES))
    rng.shuffle(statuses)
    for person, status in zip(people, statuses):
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

    clients = [services.client_register(actor=supervisor, **person) for person in people]

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
    for client in rng.sample([c for c in clients if c.status == ClientStatus.ACTIVE], 2):
        withdrawn = client.consent_date + timedelta(days=rng.randint(0, (today - client.consent_date).days))
        services.client_update(actor=supervisor, client=client, consent_withdrawn_on=withdrawn, consent_sms=False)

    # A caseload handed over between workers: the former one loses access at once.
    handed_over = rng.choice([c for c in clients if c.assigned_social_worker == workers[0]])
    services.client_assign(actor=supervisor, client=handed_over, social_worker=workers[1])

    # Read them back: registering a duplicate also flags the client registered before it.
    return accounts, list(Client.objects.filter(site=site))


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
