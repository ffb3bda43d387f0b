"""The demo data set: made through the services, complete, and made only once."""

import io
import re
from collections import Counter

import pytest
from django.core.management import call_command

from cases import services
from cases.access import clients_visible_to
from cases.models import Client, ClientStatus, Facility, GroupKind, Role, Site, SupportGroup, User


@pytest.fixture
def output(db):
    """What `seed_demo` prints on an empty database."""
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def printed_accounts(output):
    """The (username, role, password) rows of the table the command prints."""
    rows = [tuple(line.split()) for line in output.splitlines()]
    return [row for row in rows if len(row) == 3 and row[1] in Role.values]


def test_site_groups_and_facilities(output):
    site = Site.objects.get()
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


def test_a_user_of_every_role(output):
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.get(username="admin").is_superuser
    assert set(User.objects.filter(role=Role.FACILITY_STAFF).values_list("username", "facility__kind")) == {
        ("klinik", "hospital_clinic"),
        ("puskesmas", "puskesmas"),
    }


def test_clients_have_unique_generated_codes(output):
    codes = list(Client.objects.values_list("code", flat=True))
    assert 55 <= len(codes) <= 65
    assert all(re.fullmatch(r"TTE-\d{4}-\d{4}", code) for code in codes)
    assert len(set(codes)) == len(codes)


def test_clients_are_varied(output):
    clients = Client.objects.all()
    assert set(clients.values_list("sex", flat=True)) == {"M", "F"}
    assert set(clients.values_list("status", flat=True)) == set(ClientStatus.values)
    assert clients.filter(status=ClientStatus.DECEASED).count() == 1
    assert clients.filter(consent_withdrawn_on__isnull=False).count() == 2
    assert set(clients.filter(pregnant=True).values_list("sex", flat=True)) == {"F"}
    niks = clients.exclude(nik="").values_list("nik", flat=True)
    assert niks and all(nik.startswith("8271") and len(nik) == 16 for nik in niks)


def test_companions_are_volunteers_of_the_clients_groups(output):
    companions = Client.objects.exclude(companion=None).select_related("companion")
    assert companions.exists()
    for client in companions:
        groups_of_companion = set(client.companion.groups.values_list("support_group", flat=True))
        assert groups_of_companion & set(client.support_groups.values_list("pk", flat=True))


def test_both_duplicate_pairs_are_flagged(output):
    flagged = Client.objects.filter(possible_duplicate=True)
    assert flagged.count() >= 4
    assert "(4 flagged as possible duplicates)" in output


def test_printed_passwords_work(output):
    accounts = printed_accounts(output)
    assert {role for _, role, _ in accounts} == set(Role.values)
    assert len(accounts) == User.objects.count()
    for username, role, password in accounts:
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password(password), username


def test_each_social_worker_sees_exactly_their_caseload(output):
    workers = User.objects.filter(role=Role.SOCIAL_WORKER)
    assert workers.count() == 3
    for worker in workers:
        caseload = set(Client.objects.filter(assigned_social_worker=worker))
        assert caseload
        assert set(clients_visible_to(worker)) == caseload


def test_a_second_run_changes_nothing(output):
    models = (Site, SupportGroup, Facility, User, Client)
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
