"""A field the caller may not write answers 400 naming it (SPEC §12.5): walked over every
serializer that takes writes through the API, as every role, on create and on update."""

import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from cases.api.serializers import RefuseUnwritableMixin
from cases.arv import services as arv_services
from outreach import services as outreach_services
from referrals import services as referral_services

ROLES = ["admin_user", "supervisor", "worker", "volunteer", "facility_staff"]
CHANGED = "__changed-by-the-test__"


def _write_viewsets():
    """(basename, viewset class) of every routed API viewset that creates or updates."""
    found = {}

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            cls = getattr(pattern.callback, "cls", None)
            actions = getattr(pattern.callback, "actions", None) or {}
            if (
                cls is not None
                and ({"post", "put", "patch"} & set(actions))
                and ({"create", "update", "partial_update"} & set(actions.values()))
            ):
                found[cls.__name__] = cls

    walk(get_resolver().url_patterns)
    return found


WRITE_VIEWSETS = _write_viewsets()


def test_the_walk_finds_the_writable_resources():
    # Guards the walk: if the URLconf stopped matching, the test below would pass vacuously.
    names = set(WRITE_VIEWSETS)
    assert {"ClientViewSet", "UserViewSet", "RefillViewSet", "IncidentViewSet", "ReferralViewSet"} <= names, names


def test_every_write_serializer_refuses_unwritable_fields():
    for name, cls in WRITE_VIEWSETS.items():
        serializer = cls.serializer_class
        assert issubclass(serializer, RefuseUnwritableMixin), f"{name}.serializer_class does not refuse"


@pytest.fixture
def records(client_a, worker, volunteer, supervisor, facility_a, group_a1, site_a):
    """One real record of each writable resource, about client_a."""
    from cases.models import Client

    Client.objects.filter(pk=client_a.pk).update(consent_share=True)
    client_a.refresh_from_db()
    today = timezone.localdate(timezone=site_a.tzinfo)
    arv_services.refill_record(actor=worker, client=client_a, facility=facility_a, pickup_date=today, days_supplied=30)
    arv_services.viral_load_record(actor=worker, client=client_a, sample_date=today, copies_per_ml=40)
    outreach_services.visit_record(actor=worker, client=client_a, visited_at=timezone.now(), kind="home_visit")
    outreach_services.meeting_record(actor=volunteer, support_group=group_a1, date=today, topic="T")
    outreach_services.service_record(actor=worker, client=client_a, service="counselling", date=today)
    outreach_services.incident_report(
        actor=worker,
        site=site_a,
        client=client_a,
        kind="eviction",
        urgency="high",
        description="d",
        responders=[volunteer],
    )
    referral_services.referral_create(actor=worker, client=client_a, to_facility=facility_a, service="vct", reason="r")
    return client_a


def _serializer(viewset_cls, user, instance):
    request = APIRequestFactory().patch("/")
    force_authenticate(request, user=user)
    from rest_framework.request import Request

    view = viewset_cls()
    view.request = Request(request)
    view.request.user = user
    view.format_kwarg = None
    view.action = "partial_update" if instance is not None else "create"
    view.kwargs = {}
    context = {"request": view.request, "view": view, "format": None}
    return viewset_cls.serializer_class(instance, data={}, partial=instance is not None, context=context)


@pytest.mark.parametrize("role", ROLES)
def test_each_unwritable_field_is_refused_by_name(request, records, role):
    user = request.getfixturevalue(role)
    walked = 0
    for name, viewset_cls in WRITE_VIEWSETS.items():
        model = viewset_cls.serializer_class.Meta.model
        for instance in (None, model.objects.order_by("pk").first()):
            probe = _serializer(viewset_cls, user, instance)
            contract = probe._contract_fields()
            writable = {f for f, field in probe.fields.items() if not field.read_only}
            for field_name in sorted(contract - writable):
                serializer = _serializer(viewset_cls, user, instance)
                serializer.initial_data = {field_name: CHANGED}
                assert not serializer.is_valid(), (name, role, field_name)
                assert field_name in serializer.errors, (name, role, field_name, serializer.errors)
                walked += 1
    assert walked > 20


@pytest.mark.parametrize("role", ["supervisor", "worker", "admin_user"])
def test_site_of_a_client_is_refused_with_the_way_to_move_it(request, as_user, records, site_b, role):
    user = request.getfixturevalue(role)
    r = as_user(user).patch(f"/api/v1/clients/{records.pk}/", {"site": site_b.pk}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["site"]
    assert "transfer" in r.json()["site"][0]
    records.refresh_from_db()
    assert records.site.code == "TTE"


def test_sending_back_what_was_read_is_not_a_write(as_user, worker, records):
    api = as_user(worker)
    row = api.get(f"/api/v1/clients/{records.pk}/").json()
    unchanged = {k: row[k] for k in ("id", "code", "site", "assigned_social_worker", "version")}
    r = api.patch(f"/api/v1/clients/{records.pk}/", {**unchanged, "nickname": "Ti"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["nickname"] == "Ti"
