"""Fixed personas around one client, as in SPEC §7.

`client_a` is at site A, in group A1, assigned to `worker`, accompanied by `volunteer`.
Everyone else stands at a known distance from it.
"""

import pytest
from django.db.backends.signals import connection_created
from rest_framework.test import APIClient

from cases.models import Role
from tests.factories import FacilityFactory, SiteFactory, SupportGroupFactory, UserFactory, make_client


def _allow_access_log_truncate(sender, connection, **kwargs):
    """The access log refuses TRUNCATE (cases migration 0012) unless the session says so:
    the suite's own connections do, so that Django's flush between transactional tests can
    empty it. Nothing else sets this."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET basodara.allow_access_log_truncate = on")


connection_created.connect(_allow_access_log_truncate, dispatch_uid="tests-allow-access-log-truncate")


def pytest_runtest_setup(item):
    """Tests marked `postgres` need PostgreSQL's concurrency; CI always runs them there."""
    from django.conf import settings

    if item.get_closest_marker("postgres") and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("needs PostgreSQL (set DATABASE_URL, as .ci/run does)")


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The real hasher costs ~0.3 s a user; no test here measures hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def writes_serving_a_request_are_logged():
    """A tripwire over the whole suite: a record of a logged app written while a request is
    served (the API, the pages, the admin) must be written through cases.audit (`save`,
    `create`, `delete`, `m2m`, `set_m2m`), which logs it; a write that bypasses it fails the
    test that made it. (Bulk writes pass no signal: their services log them, tested apart.)"""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from cases import audit

    missed = []

    def check(model, instance, how):
        if audit._current_request.get() is not None and audit.is_logged(model) and not audit.logging_write():
            missed.append(f"{how} {model._meta.label_lower} {instance.pk}")

    def on_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
        # Django's own note of a sign-in (User.last_login) is no one's edit of the account.
        if not raw and set(update_fields or ()) != {"last_login"}:
            check(sender, instance, "created" if created else "saved")

    def on_delete(sender, instance, **kwargs):
        check(sender, instance, "deleted")

    def on_m2m(sender, instance, action, pk_set=None, **kwargs):
        if action == "post_clear" or (action in ("post_add", "post_remove") and pk_set):
            check(type(instance), instance, f"m2m {action}")

    receivers = ((post_save, on_save), (post_delete, on_delete), (m2m_changed, on_m2m))
    for signal, receiver in receivers:
        signal.connect(receiver, weak=False, dispatch_uid=f"tests-tripwire-{receiver.__name__}")
    yield
    for signal, receiver in receivers:
        signal.disconnect(dispatch_uid=f"tests-tripwire-{receiver.__name__}")
    assert not missed, f"writes that left no access-log entry: {missed}"


@pytest.fixture(autouse=True)
def clear_cache():
    # The site time-zone cache must not carry sites of one test's database into the next.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def site_a(db):
    return SiteFactory(code="TTE", name="Sentra Ternate")


@pytest.fixture
def site_b(db):
    return SiteFactory(code="MKS", name="Sentra Makassar", timezone="Asia/Makassar")


@pytest.fixture
def group_a1(site_a):
    return SupportGroupFactory(site=site_a, name="KDS Sahabat", kind="KDS")


@pytest.fixture
def group_a2(site_a):
    return SupportGroupFactory(site=site_a, name="LKS Harapan", kind="LKS")


@pytest.fixture
def group_b1(site_b):
    return SupportGroupFactory(site=site_b, name="KDS Anging Mammiri", kind="KDS")


@pytest.fixture
def facility_a(site_a):
    return FacilityFactory(site=site_a, name="Klinik VCT RSUD Chasan Boesoirie")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, site=None, is_staff=True, is_superuser=True)


@pytest.fixture
def supervisor(site_a):
    return UserFactory(username="supervisor_a", role=Role.SUPERVISOR, site=site_a)


@pytest.fixture
def worker(site_a):
    """The social worker assigned to client_a."""
    return UserFactory(username="worker_a", role=Role.SOCIAL_WORKER, site=site_a)


@pytest.fixture
def colleague(site_a):
    """A social worker of the same site with no tie to client_a."""
    return UserFactory(username="colleague_a", role=Role.SOCIAL_WORKER, site=site_a)


@pytest.fixture
def volunteer(site_a, group_a1):
    """A volunteer of client_a's group."""
    return UserFactory(username="volunteer_a1", role=Role.VOLUNTEER, site=site_a, support_groups=[group_a1])


@pytest.fixture
def other_volunteer(site_a, group_a2):
    """A volunteer of another group of the same site."""
    return UserFactory(username="volunteer_a2", role=Role.VOLUNTEER, site=site_a, support_groups=[group_a2])


@pytest.fixture
def facility_staff(facility_a):
    return UserFactory(username="clinic_a", role=Role.FACILITY_STAFF, site=facility_a.site, facility=facility_a)


@pytest.fixture
def outsider_supervisor(site_b):
    """A supervisor of another site."""
    return UserFactory(username="supervisor_b", role=Role.SUPERVISOR, site=site_b)


@pytest.fixture
def outsider_worker(site_b):
    return UserFactory(username="worker_b", role=Role.SOCIAL_WORKER, site=site_b)


@pytest.fixture
def client_a(supervisor, worker, volunteer, group_a1):
    return make_client(
        actor=supervisor,
        full_name="Siti Rahmawati",
        nickname="Siti",
        nik="8271015705900001",
        phone="+6281240000001",
        address="Jl. Pahlawan Revolusi 12, Ternate",
        assigned_social_worker=worker,
        companion=volunteer,
        support_groups=[group_a1],
    )


@pytest.fixture
def client_b(outsider_supervisor, outsider_worker, group_b1):
    return make_client(
        actor=outsider_supervisor,
        full_name="Andi Baso",
        sex="M",
        assigned_social_worker=outsider_worker,
        support_groups=[group_b1],
    )


@pytest.fixture
def api():
    """An API client; `api.force_authenticate(user)` or `as_user(user)` to sign in."""
    return APIClient()


@pytest.fixture
def as_user():
    def _as(user):
        c = APIClient()
        c.force_authenticate(user)
        return c

    return _as
