"""The client list and detail are read the lean way (cases.api.rows); ClientSerializer stays
the contract. Every reader must get from the lean path exactly what the serializer gives:
the same keys in the same order and the same values once rendered as JSON."""

import datetime
import json
import types

import pytest
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from cases import access, selectors
from cases import services as case_services
from cases.api.serializers import ClientDetailSerializer, ClientSerializer
from cases.arv import services as arv_services
from cases.models import SupportGroup
from outreach import services as outreach_services
from referrals import services as referral_services
from tests.factories import make_client


def serializer_rows(user, ids, serializer=ClientSerializer):
    """What `serializer` says of the clients `ids`, as `user` reads them, as JSON."""
    clients = (
        selectors.client_rows(access.clients_visible_to(user))
        .prefetch_related(Prefetch("support_groups", queryset=SupportGroup.objects.only("id")))
        .filter(pk__in=ids)
    )
    by_id = {c.pk: c for c in clients}
    context = {"request": types.SimpleNamespace(user=user)}
    data = [serializer(by_id[pk], context=context).data for pk in ids]
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def varied_clients(supervisor, worker, colleague, volunteer, group_a1, group_a2, facility_a):
    """Clients in every follow-up state, with the related rows the list computes from."""
    today = timezone.localdate(timezone=supervisor.site.tzinfo)
    on_time = make_client(
        actor=supervisor,
        full_name="Siti Rahmawati",
        nickname="Siti",
        nik="8271015705900001",
        phone="+6281240000001",
        address="Jl. Pahlawan Revolusi 12, Ternate",
        date_of_birth=datetime.date(1990, 5, 17),
        art_start_date=datetime.date(2024, 3, 1),
        art_facility=facility_a,
        regimen="TLD",
        consent_share=True,
        consent_sms=True,
        assigned_social_worker=worker,
        companion=volunteer,
        support_groups=[group_a2, group_a1],
    )
    late = make_client(
        actor=supervisor,
        full_name="Hasan Umasugi",
        sex="M",
        assigned_social_worker=worker,
        support_groups=[group_a1],
        pregnant=False,
    )
    bare = make_client(actor=supervisor, full_name="Rini", support_groups=[group_a1])
    shared = make_client(actor=supervisor, full_name="Yanti", assigned_social_worker=colleague)
    arv_services.refill_record(
        actor=supervisor, client=on_time, facility=facility_a, pickup_date=today, days_supplied=30
    )
    arv_services.refill_record(
        actor=supervisor,
        client=late,
        facility=facility_a,
        pickup_date=today - datetime.timedelta(days=45),
        days_supplied=30,
    )
    outreach_services.visit_record(
        actor=worker,
        client=on_time,
        visited_at=timezone.now() - datetime.timedelta(days=3, minutes=7),
        kind="home_visit",
        plan="Kontrol",
    )
    referral = referral_services.referral_create(
        actor=worker, client=on_time, to_facility=facility_a, service="art_refill", reason="Ambil ARV"
    )
    referral_services.referral_send(actor=worker, referral=referral)
    case_services.client_share(
        actor=supervisor, client=shared, user=worker, until=today + datetime.timedelta(days=5), can_edit=False
    )
    return [on_time, late, bare, shared]


@pytest.mark.parametrize("who", ["admin_user", "supervisor", "worker", "colleague", "volunteer"])
def test_list_and_detail_match_the_serializer(request, as_user, varied_clients, who):
    user = request.getfixturevalue(who)
    api = as_user(user)
    listed = api.get("/api/v1/clients/?page_size=100").json()["results"]
    assert listed, "every persona here reaches at least one client"
    ids = [row["id"] for row in listed]
    expected = serializer_rows(user, ids)
    for got, want in zip(listed, expected, strict=True):
        assert list(got) == list(want)  # same keys, same order
        assert got == want
    # One client is the row and its status history (ClientDetailSerializer).
    for want in serializer_rows(user, ids, ClientDetailSerializer):
        got = api.get(f"/api/v1/clients/{want['id']}/").json()
        assert list(got) == list(want) and got == want


def test_the_fixture_covers_what_the_rows_compute(as_user, supervisor, varied_clients):
    """Guard for the test above: the values compared are not all empty."""
    rows = {r["full_name"]: r for r in as_user(supervisor).get("/api/v1/clients/").json()["results"]}
    assert rows["Siti Rahmawati"]["arv_state"] == "on_time" and rows["Siti Rahmawati"]["open_referrals"] == 1
    assert rows["Siti Rahmawati"]["last_visit_date"] is not None
    assert len(rows["Siti Rahmawati"]["support_groups"]) == 2
    assert rows["Hasan Umasugi"]["days_late"] == 15
    assert rows["Siti Rahmawati"]["nik"] == "8271015705900001"
