"""factory_boy factories. Clients and users are made through the services, so grants,
codes and duplicate flags are exactly what the app would make."""

import datetime

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from cases import outbox, services
from cases.arv import services as arv_services
from cases.models import (
    Client,
    Facility,
    FacilityKind,
    GroupKind,
    Role,
    Sex,
    Site,
    SupportGroup,
    Tracing,
    TracingStatus,
    User,
)

PASSWORD = "Rahasia-uji-2026"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Sentra {n}")
    code = factory.Sequence(lambda n: "S" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))
    timezone = "Asia/Jayapura"


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    name = factory.Sequence(lambda n: f"Klinik {n}")
    kind = FacilityKind.HOSPITAL_CLINIC
    services = ["vct", "art_initiation", "art_refill", "viral_load"]
    site = factory.SubFactory(SiteFactory)


class AuthGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"support-group-test-{n}")


class SupportGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportGroup

    site = factory.SubFactory(SiteFactory)
    kind = GroupKind.KDS
    name = factory.Sequence(lambda n: f"Kelompok {n}")
    auth_group = factory.SubFactory(AuthGroupFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    role = Role.SOCIAL_WORKER
    site = factory.SubFactory(SiteFactory)
    facility = None
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def support_groups(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(*(g.auth_group for g in extracted))
        self.save()


def make_client(*, actor, site=None, support_groups=(), **fields) -> Client:
    """Register a client as `actor` would, with sensible defaults."""
    values = {
        "site": site or actor.site,
        "full_name": "Klien Contoh",
        "nickname": "Contoh",
        "sex": Sex.FEMALE,
        "date_of_birth": datetime.date(1990, 5, 17),
        "consent_date": datetime.date(2026, 1, 10),
    }
    values.update(fields)
    return services.client_register(actor=actor, support_groups=support_groups, **values)


# --- client lists as groups keep them (imports) ------------------------------------------------

IMPORT_HEADERS = [
    "Nama lengkap",
    "Nama panggilan",
    "Jenis kelamin",
    "Tanggal lahir",
    "No HP",
    "NIK",
    "Kelompok",
    "Pendamping",
    "Pekerja sosial",
    "Tanggal persetujuan",
    "Setuju SMS",
]


def import_row(full_name, *, nickname="", sex="P", born="17/08/1990", phone="", nik="", group="KDS Sahabat",
               companion="", worker="", consent="10/01/2026", sms="tidak"):  # fmt: skip
    """One spreadsheet row under IMPORT_HEADERS."""
    return [full_name, nickname, sex, born, phone, nik, group, companion, worker, consent, sms]


def people(count, *, start=1):
    """`count` distinct valid rows (different names, birth dates and no NIK)."""
    return [
        import_row(f"Klien Impor {n}", nickname=f"K{n}", born=f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1960 + n % 40}")
        for n in range(start, start + count)
    ]


def csv_bytes(rows, *, headers=IMPORT_HEADERS, delimiter=",", bom=False, title=None):
    """A CSV file as Excel writes it: optional UTF-8 BOM, optional title line above the header."""
    import csv
    import io

    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(headers)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def xlsx_bytes(rows, *, headers=IMPORT_HEADERS, sheet="Klien", before=()):
    """An XLSX workbook whose sheet `sheet` holds the list; `before` names sheets put first."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = before[0] if before else sheet
    for name in before[1:]:
        book.create_sheet(name)
    target = book.active if not before else book.create_sheet(sheet)
    target.append(headers)
    for row in rows:
        target.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def lapse(client, *, actor, facility, days_ago=40, days_supplied=30):
    """A refill of `client` picked up `days_ago` site days ago, then the reminder scan: with
    the defaults, 10 days late, so the scan has opened a tracing (returned) and queued the
    reminders."""
    today = timezone.localdate(timezone=client.site.tzinfo)
    arv_services.refill_record(
        actor=actor,
        client=client,
        facility=facility,
        pickup_date=today - datetime.timedelta(days=days_ago),
        days_supplied=days_supplied,
    )
    outbox.run_all()
    return Tracing.objects.filter(client=client, status=TracingStatus.OPEN).first()
