"""Fuzz every operation of /api/schema/ as every persona (SPEC §10 Reliability: no 5xx from
any malformed request), with every check schemathesis has.

Schemathesis generates requests from the schema, valid and invalid ones, and each goes out
as every persona of tests/conftest.py (token auth) and anonymously, twice: once as generated,
once with the ids in its path, filters and body swapped for real records the persona's site
holds, so the fuzz reaches the views' access checks, serializers and services and not only
their "not found". Every check of the installed schemathesis runs (CHECKS), among them:
- not_a_server_error: no 5xx, ever;
- status_code_conformance: every status answered is one the operation documents (its errors
  included: 400, 401, 403, 404, 409 where they can happen, cases.api.schema.error_responses);
- content_type_conformance: every answer comes in a media type documented for its status
  (a refused report download in the download's format included);
- response_schema_conformance, response_headers_conformance: a response matches what its
  status code documents (the error shapes `FieldErrors` and `ErrorDetail` included);
- negative_data_rejection: a request the schema does not allow is refused (4xx);
- positive_data_acceptance: a request the schema allows is accepted, except where a rule the
  schema cannot state refuses it: REFUSED_BY_RULE names each, with its reason;
- ignored_auth: an operation that needs a token refuses the same request without one;
- missing_required_header, unsupported_method, allow_header_conformance, use_after_free,
  ensure_resource_availability, object_level_authorization: they judge requests of the
  coverage and stateful phases, which this test does not generate (the phases are too slow
  for CI; `st run --checks all` against a running server exercises them), so here they pass vacuously.

Each request runs in a savepoint rolled back after it (the checks' own probes included): the
records stay as the fixtures made them, so every example meets the same world
(deterministic), and on PostgreSQL one failed statement cannot poison the requests after it.
"""

import csv
import io
import json
import os
import re

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from openpyxl import load_workbook
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

from cases import access as cases_access

from .conftest import HOME_SITE, PERSONAS

# Examples per operation: each one goes out 18 times (9 callers × generated and real ids).
MAX_EXAMPLES = 6
load_all_checks()
CHECKS = REGISTRY.get_all()

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20260101,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all"},
        # Boundary cases of every parameter run to hundreds per operation: too slow for CI.
        # Stateful runs need links the schema does not declare.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
# Loaded through the app itself: what the fuzz reads is what /api/schema/ serves.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
# While working on some operations: FUZZ_PATHS=<regex> fuzzes only those whose path matches.
if os.environ.get("FUZZ_PATHS"):
    schema = schema.include(path_regex=os.environ["FUZZ_PATHS"])

# Body and filter fields that name a record, and the record (by API resource) to name.
REFERENCES = {
    "client": "clients",
    "programme": "programmes",
    "attendees": "clients",
    "site": "sites",
    "to_site": "sites",
    "facility": "facilities",
    "to_facility": "facilities",
    "art_facility": "facilities",
    "support_group": "support-groups",
    "support_groups": "support-groups",
    "group": "support-groups",
    "assigned_social_worker": "worker",
    "assigned_to": "worker",
    "worker": "worker",
    "claimed_by": "worker",
    "user": "worker",
    "coordinator": "volunteer",
    "facilitator": "volunteer",
    "companion": "volunteer",
    "responders": "volunteer",
    "owner": "volunteer",
    "plan": "plans",
    "goal": "goals",
    "assessment": "assessments",
    "referral": "referrals",
    "service_record": "services",
    "enrolment": "enrolments",
}
RESOURCE = re.compile(r"^/api/v1/(?P<resource>[a-z-]+)/")


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value, ids, name):
    """`value` with the record `name` refers to, if it was a (list of) generated id(s);
    malformed values stay as generated."""
    target = ids.get(REFERENCES.get(name))
    if target is None:
        return value
    if _is_id(value):
        return target
    if isinstance(value, list) and value and all(_is_id(v) for v in value):
        return [target]
    return value


def _with_real_ids(case, world, persona):
    """A copy of `case` naming real records of `persona`'s site, or None if it names none."""
    side = world["sides"][HOME_SITE.get(persona, "a")]
    ids = dict(side["ids"])
    resource = RESOURCE.match(case.path).group("resource")
    if resource == "notifications" and persona is not None:
        ids["notifications"] = world["notifications"][persona]
    path_parameters = dict(case.path_parameters or {})
    if "id" in path_parameters and resource in ids:
        path_parameters["id"] = ids[resource]
    query = {name: _real(value, ids, name) for name, value in (case.query or {}).items()}
    body = case.body
    if isinstance(body, dict):
        body = {name: _real(value, ids, name) for name, value in body.items()}
        if _is_id(body.get("version")) and resource in side["versions"]:
            body["version"] = side["versions"][resource]  # the version read, so no 409
    if (path_parameters, query, body) == (case.path_parameters or {}, case.query or {}, case.body):
        return None
    kwargs = {"path_parameters": path_parameters, "query": query, "headers": dict(case.headers or {})}
    if case.media_type is not None:
        kwargs.update(body=body, media_type=case.media_type)
    return case.operation.Case(cookies=dict(case.cookies or {}), **kwargs)


# A schema-valid request refused (400) by a rule the schema cannot state: the fields such a
# refusal may name. Any other refusal of a schema-valid request is a failure.
#
# Everywhere: a field naming a record (REFERENCES) that does not exist or is out of the
# caller's reach, that does not fit the others (a group of another site), or that an admin,
# who has no site, must name: the unknown-id 400, which does not tell whether it exists.
#
# Every write: the days of what happened fall where the record's story allows: not after
# today at the site (a bound that moves with the calendar), not before the client's consent
# or birth, an end not before its start (bounds that depend on the records named).
HAPPENED_ON = {
    "art_start_date",
    "assessed_on",
    "consent_date",
    "consent_withdrawn_on",
    "date",
    "date_of_birth",
    "done_on",
    "due_date",
    "effective_date",
    "end_date",
    "enrolled_on",
    "hiv_diagnosis_date",
    "next_visit_date",
    "outcome_on",
    "pickup_date",
    "sample_date",
    "start_date",
    "until",
    "visited_at",
}
REFUSED_BY_RULE = [
    # Username and password that match no account.
    (("POST",), re.compile(r"^/api/v1/auth/token/$"), {"non_field_errors"}),
    # The period starts on or before its end, spans at most two years (reports.scope), and
    # ends by today for the figures worked out as of its last day (cascade, indicators);
    # an indicator without a denominator has no `part=denominator`.
    (("GET",), re.compile(r"^/api/v1/reports/"), {"from", "to", "part"}),
    # Which client fields a role may write is the policy's, per role and per client
    # (cases.access.client_writable_fields; a refused field is named, SPEC §12.5): the schema
    # is one for every role.
    (("POST", "PUT", "PATCH"), re.compile(r"^/api/v1/clients/(\{id\}/)?$"), set(cases_access.CLIENT_FIELDS)),
    # An incident names the person it happened to: a client, or a reporter's name.
    (("POST",), re.compile(r"^/api/v1/incidents/$"), {"reporter_name"}),
    # A time zone the server's tz database knows (the list is the server's, not the schema's).
    (("POST", "PUT", "PATCH"), re.compile(r"^/api/v1/sites/"), {"timezone"}),
    # An account's rules (cases.services.user_validate, Django's password validators): a
    # username nobody has, a password strong enough, a role with the site, facility and
    # groups it needs, within what the caller may manage.
    (
        ("POST", "PUT", "PATCH"),
        re.compile(r"^/api/v1/users/(\{id\}/)?$"),
        {"username", "password", "role", "site", "facility", "support_groups"},
    ),
]
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _not_sendable_in_a_form(case) -> set:
    """The fields of a form body whose generated value a form cannot carry: null (written as
    the text "null"; a form's null is an empty field) or a nested object (sent as JSON only)."""
    if case.media_type not in FORM_MEDIA_TYPES or not isinstance(case.body, dict):
        return set()
    return {
        name
        for name, value in case.body.items()
        if value is None
        or isinstance(value, dict)
        or (isinstance(value, list) and any(v is None or isinstance(v, dict | list) for v in value))
    }


def _refused_fields(response):
    """The fields a 400 names: from its JSON, or from the rows of a refused download."""
    content_type = response.headers.get("content-type", [""])[0]
    try:
        if content_type.startswith("text/csv"):
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
            return {row[0] for row in rows if row}
        if "spreadsheetml" in content_type:
            sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
            return {row[0] for row in list(sheet.iter_rows(values_only=True))[1:]}
        return set(json.loads(response.content))
    except (ValueError, TypeError, IndexError):
        return None


def _refused_by_rule(case, response) -> bool:
    """Whether a 400 to a schema-valid `case` names only fields a rule of REFUSED_BY_RULE covers."""
    if response.status_code != 400:
        return False
    fields = _refused_fields(response)
    if not fields:
        return False
    allowed = set(REFERENCES) | _not_sendable_in_a_form(case)
    if case.method.upper() != "GET":
        allowed |= HAPPENED_ON
    for methods, path, rule_fields in REFUSED_BY_RULE:
        if case.method.upper() in methods and path.match(case.path):
            if rule_fields is None:
                return True
            allowed |= rule_fields
    return fields <= allowed


def _describe(case, response) -> str:
    body = case.body if case.media_type is not None else None
    try:
        body = json.dumps(body, default=str)[:500]
    except TypeError:
        body = repr(body)[:500]
    return f"{case.method.upper()} {case.formatted_path} query={case.query} media_type={case.media_type} body={body}"


def _call(case, token, raised):
    """Send `case` (as `token`'s owner) in a savepoint; the failures the checks find."""
    headers = {"Authorization": f"Token {token}"} if token else {}
    raised.clear()
    with transaction.atomic():
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:
            excused = [
                failure
                for failure in exc.exceptions
                if isinstance(failure, RejectedPositiveData) and _refused_by_rule(case, response)
            ]
            if len(excused) == len(exc.exceptions):
                return None
            detail = str(exc)
            if raised:
                detail += "\nServer traceback:\n" + raised[-1]
            return detail
        finally:
            transaction.set_rollback(True)
    return None


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # A failing example is reported as found: shrinking it would cost CI minutes, and the
    # report already names the request and the server's traceback.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
def test_no_server_error_and_documented_responses_match_the_schema(case, fuzz_world, in_process_requests):
    failures = []
    for persona in PERSONAS:
        token = world_token = fuzz_world["tokens"].get(persona) if persona else None
        for variant in (case, _with_real_ids(case, fuzz_world, persona)):
            if variant is None:
                continue
            detail = _call(variant, world_token, in_process_requests)
            if detail is not None:
                failures.append(f"--- as {persona or 'anonymous'}: {_describe(variant, None)}\n{detail}")
        del token
    assert not failures, "\n".join(failures)
