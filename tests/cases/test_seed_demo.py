"""The demo data set: made through the services, complete, and made only once."""

import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from cases import services
from cases.access import clients_visible_to
from cases.models import (
    Client,
    ClientStatus,
    Facility,
    GroupKind,
    Notification,
    NotificationKind,
    NotificationStatus,
    Refill,
    Role,
    Site,
    SupportGroup,
    Tracing,
    TracingStatus,
    User,
    ViralLoad,
)
from cases.selectors import ArvState, with_arv_state


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """What `seed_demo` prints on an empty database. It runs once for the tests of a class
    (a few seconds each time), inside a transaction rolled back after them."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def output(seeded, db):
    """The seeded database, each test in a savepoint of its own."""
    return seeded


def printed_accounts(output):
    """The (username, role, password) rows of the table the command prints."""
    rows = [tuple(line.split()) for line in output.splitlines()]
    return [row for row in rows if len(row) == 3 and row[1] in Role.values]


def site_today():
    return timezone.localdate(timezone=Site.objects.get(code="TTE").tzinfo)


class TestDemoData:
    """Tests of one seeded database, read only."""

    def test_site_groups_and_facilities(self, output):
        site = Site.objects.get(code="TTE")
        assert (site.code, site.timezone) == ("TTE", "Asia/Jayapura")
        assert Counter(SupportGroup.objects.filter(site=site).values_list("kind", flat=True)) == {
            GroupKind.LKS: 2,
            GroupKind.KDS: 1,
        }
        # Each group is coordinated by one of its own two volunteers.
        for group in SupportGroup.objects.all():
            volunteers = set(group.auth_group.user_set.values_list("role", flat=True))
            assert volunteers == {Role.VOLUNTEER}
            assert group.auth_group.user_set.count() == 2
            assert group.auth_group.user_set.filter(pk=group.coordinator_id).exists()
        assert Facility.objects.filter(site=site).count() == 3

    def test_a_user_of_every_role(self, output):
        assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
        assert User.objects.get(username="admin").is_superuser
        assert set(User.objects.filter(role=Role.FACILITY_STAFF).values_list("username", "facility__kind")) == {
            ("klinik", "hospital_clinic"),
            ("puskesmas", "puskesmas"),
        }

    def test_clients_have_unique_generated_codes(self, output):
        codes = list(Client.objects.values_list("code", flat=True))
        assert 55 <= len(codes) <= 65
        assert all(re.fullmatch(r"TTE-\d{4}-\d{4}", code) for code in codes)
        assert len(set(codes)) == len(codes)

    def test_clients_are_varied(self, output):
        clients = Client.objects.all()
        assert set(clients.values_list("sex", flat=True)) == {"M", "F"}
        assert set(clients.values_list("status", flat=True)) == set(ClientStatus.values)
        assert clients.filter(status=ClientStatus.DECEASED).count() == 1
        assert clients.filter(consent_withdrawn_on__isnull=False).count() == 2
        assert set(clients.filter(pregnant=True).values_list("sex", flat=True)) == {"F"}
        niks = clients.exclude(nik="").values_list("nik", flat=True)
        assert niks and all(nik.startswith("8271") and len(nik) == 16 for nik in niks)

    def test_companions_are_volunteers_of_the_clients_groups(self, output):
        companions = Client.objects.exclude(companion=None).select_related("companion")
        assert companions.exists()
        for client in companions:
            groups_of_companion = set(client.companion.groups.values_list("support_group", flat=True))
            assert groups_of_companion & set(client.support_groups.values_list("pk", flat=True))

    def test_both_duplicate_pairs_are_flagged(self, output):
        flagged = Client.objects.filter(possible_duplicate=True)
        assert flagged.count() >= 4
        assert "(4 flagged as possible duplicates)" in output

    def test_printed_passwords_work(self, output):
        accounts = printed_accounts(output)
        assert {role for _, role, _ in accounts} == set(Role.values)
        assert len(accounts) == User.objects.count()
        for username, role, password in accounts:
            user = User.objects.get(username=username)
            assert user.role == role
            assert user.check_password(password), username

    def test_each_social_worker_sees_exactly_their_caseload(self, output):
        workers = User.objects.filter(role=Role.SOCIAL_WORKER)
        assert workers.count() == 3
        for worker in workers:
            caseload = set(Client.objects.filter(assigned_social_worker=worker))
            assert caseload
            assert set(clients_visible_to(worker)) == caseload

    def test_every_active_client_has_refills_and_its_next_due_date(self, output):
        active = Client.objects.filter(status=ClientStatus.ACTIVE)
        assert active.count() >= 40
        for client in active:
            latest = client.refills.order_by("-pickup_date", "-id").first()
            assert latest is not None, client.code
            assert client.last_refill_id == latest.pk
            assert client.next_refill_due == latest.pickup_date + timedelta(days=latest.days_supplied), client.code

    def test_refills_are_realistic(self, output):
        today = site_today()
        refills = Refill.objects.all()
        assert set(refills.values_list("days_supplied", flat=True)) == {30, 60, 90, 180}
        assert set(refills.values_list("facility__kind", flat=True)) == {"hospital_clinic", "puskesmas"}
        assert refills.filter(missed_doses__gt=0).exists()
        assert refills.filter(returned_to_treatment=True).exists()
        assert not refills.filter(pickup_date__gt=today).exists()
        assert not refills.filter(pickup_date__lt=F("client__art_start_date")).exists()
        # Histories go back one to three years (the lost and those who left: before they stopped).
        assert min(refills.values_list("pickup_date", flat=True)) >= today - timedelta(days=3 * 365 + 2 * 365)
        assert refills.filter(pickup_date__lt=today - timedelta(days=365)).exists()
        # Recorded by the client's social worker or the supervisor.
        for refill in refills.select_related("client", "recorded_by"):
            assert refill.recorded_by.role in (Role.SOCIAL_WORKER, Role.SUPERVISOR)
        # Six months at once only for clients stable on ART for a while.
        for refill in refills.filter(days_supplied=180).select_related("client"):
            assert (refill.pickup_date - refill.client.art_start_date).days >= 2 * 365 - 30

    def test_todays_arv_states_are_varied(self, output):
        rows = with_arv_state(Client.objects.all()).values_list("status", "arv_state", "days_late")
        states = Counter(state for _, state, _ in rows)
        assert states[ArvState.ON_TIME] > 0
        assert states[ArvState.DUE] > 0
        assert states[ArvState.LATE] > 0
        assert states[ArvState.LTFU] > 0
        in_care = sum(states[s] for s in (ArvState.ON_TIME, ArvState.DUE, ArvState.LATE, ArvState.LTFU))
        assert 0.45 <= states[ArvState.ON_TIME] / in_care <= 0.75
        # Late clients both before and inside the tracing window; the lost, 28 days or more.
        late = [days for _, state, days in rows if state == ArvState.LATE]
        assert min(late) < 7 <= max(late) < 28
        assert all(days >= 28 for status, state, days in rows if status == ClientStatus.LTFU)
        # Those who left the programme have no state.
        assert all(state is None for status, state, _ in rows if status not in (ClientStatus.ACTIVE, ClientStatus.LTFU))

    def test_the_reminder_scan_ran_but_delivered_nothing(self, output):
        assert Tracing.objects.filter(status=TracingStatus.OPEN).exists()
        # Every client seven days late or more is being traced.
        today = site_today()
        lapsed = Client.objects.filter(
            status__in=[ClientStatus.ACTIVE, ClientStatus.LTFU], next_refill_due__lte=today - timedelta(days=7)
        )
        assert set(Tracing.objects.filter(status=TracingStatus.OPEN).values_list("client", flat=True)) == set(
            lapsed.values_list("pk", flat=True)
        )
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert {NotificationKind.REFILL_MISSED, NotificationKind.TRACING_DUE, NotificationKind.CLIENT_LTFU} <= kinds
        # Left to the worker bin/run starts: nothing enqueued or sent yet.
        assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.PENDING}
        assert not Notification.objects.filter(enqueued_at__isnull=False).exists()
        assert not Notification.objects.filter(sent_at__isnull=False).exists()
        assert re.search(r"ARV: \d+ refills, \d+ viral loads; today \d+ on_time, \d+ due, \d+ late, \d+ ltfu", output)

    def test_deaths_transfers_and_stops_are_dated_changes(self, output):
        """Each ended after its last pick-up, on a past day (SPEC §12.1)."""
        ended = Client.objects.filter(
            status__in=(ClientStatus.DECEASED, ClientStatus.TRANSFERRED_OUT, ClientStatus.STOPPED)
        )
        assert ended.count() >= 3
        for client in ended:
            (event,) = client.status_events.all()
            assert event.status == client.status and event.reason
            last_pickup = client.refills.latest("pickup_date").pickup_date
            assert last_pickup < event.effective_date <= timezone.localdate(timezone=client.site.tzinfo)

    def test_viral_loads(self, output):
        today = site_today()
        loads = ViralLoad.objects.all()
        assert set(loads.values_list("suppressed", flat=True)) == {True, False}
        assert all(
            suppressed == (copies < 1000) for copies, suppressed in loads.values_list("copies_per_ml", "suppressed")
        )
        assert loads.filter(copies_per_ml__lt=50).exists()
        unsuppressed = loads.filter(suppressed=False).count() / loads.count()
        assert 0.05 <= unsuppressed <= 0.3
        assert not loads.filter(sample_date__gt=today).exists()
        assert not loads.filter(sample_date__lt=today - timedelta(days=730)).exists()
        # Six months on ART before the first viral load.
        assert not loads.filter(sample_date__lt=F("client__art_start_date") + timedelta(days=180)).exists()
        # Most clients six months on ART have one to three results.
        on_art = Client.objects.filter(art_start_date__lte=today - timedelta(days=190))
        per_client = Counter(loads.values_list("client", flat=True))
        assert max(per_client.values()) <= 3
        assert sum(1 for client in on_art if per_client[client.pk]) >= 0.7 * on_art.count()

    def test_empowerment_programmes(self, output):
        from empowerment.models import Attendance, Enrolment, Programme

        programmes = {p.kind: p for p in Programme.objects.all()}
        assert set(programmes) == {"economic", "skills", "anti_stigma"}
        assert programmes["economic"].support_group.kind == GroupKind.KDS
        for programme in programmes.values():
            assert programme.sessions.exists() and programme.enrolments.exists()
        training = programmes["skills"].enrolments
        assert training.filter(outcome="completed").count() == 4 and training.filter(outcome="dropped").count() == 1
        assert Enrolment.objects.filter(business_started=True).exists()
        stigma = programmes["anti_stigma"].sessions.get()
        assert stigma.others_community > 0 and stigma.attendees.exists()
        # Every attendee was enrolled in the session's programme.
        for row in Attendance.objects.select_related("session"):
            assert Enrolment.objects.filter(programme=row.session.programme_id, client=row.client_id).exists()

    def test_a_transfer_waits_at_the_second_site(self, output):
        from transfers.models import Transfer, TransferStatus

        tidore = Site.objects.get(code="TDR")
        (supervisor,) = User.objects.filter(site=tidore)
        assert supervisor.role == Role.SUPERVISOR
        (transfer,) = Transfer.objects.all()
        assert (transfer.from_site.code, transfer.to_site, transfer.status) == ("TTE", tidore, TransferStatus.REQUESTED)
        assert transfer.client.consent_share and transfer.reason
        # Its supervisor is told, through the outbox like every reminder.
        assert Notification.objects.filter(
            kind=NotificationKind.TRANSFER_REQUESTED, recipient_user=supervisor, subject_id=transfer.pk
        ).exists()

    def test_a_second_run_changes_nothing(self, output):
        models = (Site, SupportGroup, Facility, User, Client, Refill, ViralLoad, Tracing, Notification)
        before = {model: model.objects.count() for model in models}
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        assert "already there" in out.getvalue()
        assert {model: model.objects.count() for model in models} == before


def test_a_failure_leaves_nothing_half_made(db, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("the last step fails")

    monkeypatch.setattr(services, "client_assign", fail)
    with pytest.raises(RuntimeError):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Site.objects.exists()
    assert not User.objects.exists()
    assert not SupportGroup.objects.exists()
