import pytest
from rest_framework.test import APIClient

from cases.tasks import expire_client_shares
from tests.factories import PASSWORD


def test_token_auth_flow(db, worker, client_a):
    api = APIClient()
    assert api.get("/api/v1/clients/").status_code == 401
    r = api.post("/api/v1/auth/token/", {"username": worker.username, "password": PASSWORD}, format="json")
    assert r.status_code == 200
    token = r.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = api.get("/api/v1/clients/")
    assert r.status_code == 200 and r.json()["count"] == 1


@pytest.mark.parametrize(
    "payload, fields",
    [
        ({"username": "worker_a", "password": "wrong"}, {"non_field_errors"}),
        ({"username": "worker_a"}, {"password"}),
        ({}, {"username", "password"}),
    ],
)
def test_token_bad_credentials_are_400_with_fields(db, worker, payload, fields):
    r = APIClient().post("/api/v1/auth/token/", payload, format="json")
    assert r.status_code == 400
    assert set(r.json()) == fields


def test_session_auth_works_for_the_web(db, client, worker, client_a):
    assert client.login(username=worker.username, password=PASSWORD)
    r = client.get("/api/v1/users/me/")
    assert r.status_code == 200 and r.json()["role"] == "social_worker"


def test_openapi_schema_and_docs(client, db):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/clients/",
        "/api/v1/clients/{id}/",
        "/api/v1/clients/{id}/share/",
        "/api/v1/users/me/",
        "/api/v1/sites/",
        "/api/v1/support-groups/",
        "/api/v1/facilities/",
        "/api/v1/auth/token/",
    ):
        assert path in schema["paths"], path
    assert "delete" not in schema["paths"]["/api/v1/clients/{id}/"]
    assert client.get("/api/docs/").status_code == 200


def test_home_page_in_indonesian_by_default_and_english_on_request(client, db):
    r = client.get("/")
    assert r.status_code == 200
    assert 'lang="id"' in r.content.decode()
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="en"' in r.content.decode()


def test_expire_shares_task_runs(client_a, supervisor, colleague):
    import datetime

    from django.utils import timezone

    from cases import services
    from cases.models import ClientUserObjectPermission

    services.client_share(actor=supervisor, client=client_a, user=colleague, until=timezone.localdate())
    ClientUserObjectPermission.objects.filter(kind="share").update(expires_at=timezone.now() - datetime.timedelta(1))
    assert expire_client_shares.apply().get() == 1
    assert not ClientUserObjectPermission.objects.filter(kind="share").exists()


def test_schema_generates_without_warnings(db, tmp_path):
    """drf-spectacular introspects views as an anonymous user; a warning means an endpoint
    is missing or mistyped in the published schema."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=last", "page"),
        ("page=-1", "page"),
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("page_size=null", "page_size"),
        ("page_size=false", "page_size"),
        ("page_size=%EF%BC%95", "page_size"),  # a full-width digit is not a number here
    ],
)
def test_malformed_paging_is_a_400_naming_the_parameter(as_user, supervisor, client_a, query, field):
    r = as_user(supervisor).get(f"/api/v1/clients/?{query}")
    assert r.status_code == 400 and list(r.json()) == [field]


def test_paging_within_range_and_past_the_end(as_user, supervisor, client_a):
    api = as_user(supervisor)
    assert api.get("/api/v1/clients/?page=1&page_size=200").json()["count"] == 1
    assert api.get("/api/v1/clients/?page=2").status_code == 404  # a page past the last: not found


def test_every_operation_documents_its_errors(client, db):
    """The schema states the errors each operation may answer, with their shapes (SPEC §8)."""
    schema = client.get("/api/schema/?format=json").json()
    assert {"ErrorDetail", "FieldErrors"} <= set(schema["components"]["schemas"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if {} not in operation.get("security", [{}]):
                assert {"401", "403"} <= codes, (method, path)
            if method != "get":
                assert {"400", "409"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
    paging = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/clients/"]["get"]["parameters"]}
    assert (paging["page"]["minimum"], paging["page_size"]["minimum"], paging["page_size"]["maximum"]) == (1, 1, 200)


def test_an_api_path_that_names_nothing_is_a_json_404(as_user, supervisor, client, client_a):
    paths = (
        "/api/v1/clients/abc/",
        "/api/v1/clients/1234567890123456789/",
        "/api/v1/nothing-here/",
        "/api/v1/clients/0.5/",  # no format suffixes (they were a 400 on `format`, undocumented)
        f"/api/v1/clients/{client_a.pk}.json",
    )
    for path in paths:
        r = as_user(supervisor).get(path)
        assert (r.status_code, r["Content-Type"], set(r.json())) == (404, "application/json", {"detail"})
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/programmes/", {"kind": "family", "name": "Penguatan keluarga", "start_date": "2026-01-05"}),
        ("/api/v1/incidents/", {"description": "Butuh bantuan darurat", "kind": "death", "urgency": "high"}),
    ],
)
def test_a_record_without_site_by_a_caller_of_no_site_names_the_field(as_user, admin_user, url, body):
    """Records are made at the caller's site; an admin (no site of their own) must name one,
    told in the user's language, as for clients (cases.api.serializers.DefaultSiteMixin)."""
    r = as_user(admin_user).post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="id")
    assert r.status_code == 400 and list(r.json()) == ["site"]
    assert r.json()["site"] == ["Kolom ini wajib diisi."]


def test_the_schema_documents_what_each_operation_reads():
    """The client list's filters belong to the list, not to a client's access log; a user's
    create and update document their body (the schema is made with no user signed in)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    log = schema["paths"]["/api/v1/clients/{id}/access-log/"]["get"]
    assert {p["name"] for p in log.get("parameters", []) if p["in"] == "query"} <= {"page", "page_size", "format"}
    body = schema["components"]["schemas"]["UserRequest"]["properties"]
    assert {"username", "password", "role", "site"} <= set(body)


CREATE_ONLY = {
    "/api/v1/actions/{id}/": {"goal"},
    "/api/v1/goals/{id}/": {"plan"},
    "/api/v1/programmes/{id}/": {"site"},
    "/api/v1/sessions/{id}/": {"programme"},
    "/api/v1/enrolments/{id}/": {"programme", "client"},
    "/api/v1/visits/{id}/": {"client"},
    "/api/v1/meetings/{id}/": {"support_group"},
    "/api/v1/incidents/{id}/": {"site", "urgency"},
    "/api/v1/referrals/{id}/": {"client"},
}


def test_an_update_body_documents_only_what_an_update_may_change():
    """The fields given when a record is made and fixed after (a goal's plan, a visit's
    client) are in the create body, not in the PUT and PATCH bodies: an update refuses
    them changed (cases.api.serializers.RefuseUnwritableMixin.create_only)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def body(path, method):
        ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return set(components[ref.rsplit("/", 1)[1]]["properties"])

    for path, fixed in CREATE_ONLY.items():
        assert fixed <= body(path.replace("{id}/", ""), "post"), path
        for method in ("put", "patch"):
            assert not fixed & body(path, method), (method, path)
