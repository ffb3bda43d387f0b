import pytest

from tests.factories import PASSWORD


@pytest.mark.parametrize(
    "path",
    [
        "site",
        "facility",
        "supportgroup",
        "user",
        "client",
        "refill",
        "viralload",
        "tracing",
        "notification",
        "clientimport",
    ],
)
def test_admin_lists_open_for_admins_and_offer_no_delete(client, admin_user, client_a, path):
    assert client.login(username=admin_user.username, password=PASSWORD)
    r = client.get(f"/admin/cases/{path}/")
    assert r.status_code == 200
    assert b'value="delete_selected"' not in r.content


@pytest.mark.parametrize("path", ["homevisit", "meeting", "servicerecord", "incident", "incidenttarget"])
def test_outreach_admin_lists(client, admin_user, path):
    assert client.login(username=admin_user.username, password=PASSWORD)
    r = client.get(f"/admin/outreach/{path}/")
    assert r.status_code == 200
    assert b'value="delete_selected"' not in r.content


def test_admin_closed_to_other_roles(client, supervisor):
    supervisor.is_staff = True  # even if someone ticked it, the role decides
    supervisor.save()
    assert client.login(username=supervisor.username, password=PASSWORD)
    assert client.get("/admin/cases/client/").status_code == 403


def test_admin_user_form_validates_role_rules(client, admin_user, site_a):
    assert client.login(username=admin_user.username, password=PASSWORD)
    r = client.post(
        "/admin/cases/user/add/",
        {
            "username": "nosite",
            "password1": "Sandi-panjang-2026",
            "password2": "Sandi-panjang-2026",
            "role": "social_worker",
            "site": "",
            "facility": "",
        },
    )
    assert r.status_code == 200 and b"errorlist" in r.content
    r = client.post(
        "/admin/cases/user/add/",
        {
            "username": "baru",
            "password1": "Sandi-panjang-2026",
            "password2": "Sandi-panjang-2026",
            "role": "social_worker",
            "site": site_a.pk,
            "facility": "",
        },
    )
    assert r.status_code == 302
