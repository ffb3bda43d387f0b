import datetime

import pytest
from django.utils import timezone

from outreach.models import Meeting, ServiceRecord
from tests.factories import make_client


def test_meeting_with_attendance(as_user, volunteer, group_a1, client_a):
    r = as_user(volunteer).post(
        "/api/v1/meetings/",
        {
            "support_group": group_a1.pk,
            "date": str(timezone.localdate()),
            "topic": "Kepatuhan minum obat",
            "facilitator": volunteer.pk,
            "attendees": [client_a.pk],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["attendees"] == [client_a.pk]


def test_attendee_outside_the_group_is_400(as_user, supervisor, group_a1, group_a2, client_a):
    stranger = make_client(actor=supervisor, full_name="Bukan anggota", support_groups=[group_a2])
    r = as_user(supervisor).post(
        "/api/v1/meetings/",
        {
            "support_group": group_a1.pk,
            "date": str(timezone.localdate()),
            "topic": "Topik",
            "attendees": [client_a.pk, stranger.pk],
        },
        format="json",
    )
    assert r.status_code == 400 and stranger.code in r.json()["attendees"][0]
    assert not Meeting.objects.exists()


def test_meeting_of_another_group_or_future_is_refused(as_user, volunteer, group_a2):
    r = as_user(volunteer).post(
        "/api/v1/meetings/", {"support_group": group_a2.pk, "date": "2026-01-05", "topic": "x"}, format="json"
    )
    assert r.status_code == 400 and "support_group" in r.json()


def test_meeting_visibility(
    as_user, volunteer, other_volunteer, worker, supervisor, outsider_supervisor, group_a1, client_a, facility_staff
):
    from outreach import services

    meeting = services.meeting_record(
        actor=volunteer, support_group=group_a1, date=timezone.localdate(), topic="t", attendees=[client_a]
    )
    for user, visible in [
        (volunteer, True),
        (supervisor, True),
        (worker, True),
        (other_volunteer, False),
        (outsider_supervisor, False),
        (facility_staff, False),
    ]:
        assert as_user(user).get(f"/api/v1/meetings/{meeting.pk}/").status_code == (200 if visible else 404)


def test_social_worker_sees_only_own_clients_among_attendees(as_user, volunteer, colleague, group_a1, client_a):
    from outreach import services

    meeting = services.meeting_record(
        actor=volunteer, support_group=group_a1, date=timezone.localdate(), topic="t", attendees=[client_a]
    )
    assert as_user(colleague).get(f"/api/v1/meetings/{meeting.pk}/").json()["attendees"] == []


@pytest.mark.parametrize(
    "service", ["emergency_aid", "counselling", "education", "family_strengthening", "economic_empowerment", "other"]
)
def test_service_records(as_user, worker, client_a, service):
    r = as_user(worker).post(
        "/api/v1/services/",
        {
            "client": client_a.pk,
            "service": service,
            "date": str(timezone.localdate()),
            "amount": "250000",
            "note": "Bantuan",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["provider"] == worker.pk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"service": "cash"}, "service"),
        ({"amount": "-5"}, "amount"),
        ({"date": "2999-01-01"}, "date"),
        ({"client": 999999}, "client"),
    ],
)
def test_bad_service_input(as_user, worker, client_a, change, field):
    payload = {"client": client_a.pk, "service": "counselling", "date": str(timezone.localdate()), **change}
    r = as_user(worker).post("/api/v1/services/", payload, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not ServiceRecord.objects.exists()


def test_services_reach(as_user, worker, colleague, volunteer, client_a):
    from outreach import services

    record = services.service_record(
        actor=worker, client=client_a, service="counselling", date=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert as_user(volunteer).get(f"/api/v1/services/{record.pk}/").status_code == 200
    assert as_user(colleague).get(f"/api/v1/services/{record.pk}/").status_code == 404


PERSONAS = [
    "admin_user",
    "supervisor",
    "worker",
    "colleague",
    "volunteer",
    "other_volunteer",
    "facility_staff",
    "outsider_supervisor",
]
# persona: (sees the group A1 meeting, may record one for group A1,
#           sees the service record of client_a, may record a service for client_a)
MATRIX = {
    "admin_user": (True, 201, True, 201),
    "supervisor": (True, 201, True, 201),
    "worker": (True, 201, True, 201),
    "colleague": (True, 201, False, 400),
    "volunteer": (True, 201, True, 201),
    "other_volunteer": (False, 400, False, 400),
    "facility_staff": (False, 403, False, 403),
    "outsider_supervisor": (False, 400, False, 400),
}


@pytest.mark.parametrize("who", PERSONAS)
def test_meetings_and_services_matrix(
    request,
    as_user,
    volunteer,
    worker,
    group_a1,
    client_a,
    client_b,
    colleague,
    other_volunteer,
    facility_staff,
    outsider_supervisor,
    admin_user,
    who,
):
    from outreach import services

    meeting = services.meeting_record(actor=volunteer, support_group=group_a1, date=timezone.localdate(), topic="t")
    record = services.service_record(actor=worker, client=client_a, service="education", date=timezone.localdate())
    sees_meeting, records_meeting, sees_service, records_service = MATRIX[who]
    api = as_user(request.getfixturevalue(who))
    assert api.get(f"/api/v1/meetings/{meeting.pk}/").status_code == (200 if sees_meeting else 404)
    assert [m["id"] for m in api.get("/api/v1/meetings/").json()["results"]] == ([meeting.pk] if sees_meeting else [])
    r = api.post(
        "/api/v1/meetings/",
        {"support_group": group_a1.pk, "date": str(timezone.localdate()), "topic": "Baru"},
        format="json",
    )
    assert r.status_code == records_meeting, (who, r.content)
    assert api.get(f"/api/v1/services/{record.pk}/").status_code == (200 if sees_service else 404)
    r = api.post(
        "/api/v1/services/",
        {"client": client_a.pk, "service": "counselling", "date": str(timezone.localdate())},
        format="json",
    )
    assert r.status_code == records_service, (who, r.content)


def test_a_facilitator_from_another_site_is_not_found(as_user, volunteer, group_a1, outsider_worker):
    r = as_user(volunteer).post(
        "/api/v1/meetings/",
        {
            "support_group": group_a1.pk,
            "date": str(timezone.localdate()),
            "topic": "T",
            "facilitator": outsider_worker.pk,
        },
        format="json",
    )
    assert r.status_code == 400 and "facilitator" in r.json()
    assert not Meeting.objects.exists()


def test_an_admin_cannot_pick_a_facilitator_of_another_site_either(as_user, admin_user, group_a1, outsider_worker):
    r = as_user(admin_user).post(
        "/api/v1/meetings/",
        {
            "support_group": group_a1.pk,
            "date": str(timezone.localdate()),
            "topic": "T",
            "facilitator": outsider_worker.pk,
        },
        format="json",
    )
    assert r.status_code == 400 and "facilitator" in r.json()
    assert not Meeting.objects.exists()
