"""Fuzz every operation of /api/schema/ as every persona (SPEC §10 Reliability: no 5xx from
any malformed request).

Schemathesis generates requests from the schema, valid and invalid ones, and each goes out
as every persona of tests/conftest.py (token auth) and anonymously, twice: once as generated,
once with the ids in its path, filters and body swapped for real records the persona's site
holds, so the fuzz reaches the views' access checks, serializers and services and not only
their "not found". Three checks, the contract's:
- not_a_server_error: no 5xx, ever;
- status_code_conformance: every status answered is one the operation documents (its errors
  included: 400, 401, 403, 404, 409 where they can happen, cases.api.schema.error_responses);
- response_schema_conformance: a response matches the schema of its status code (the error
  shapes `FieldErrors` and `ErrorDetail` included).

Each request runs in a savepoint rolled back after it: the records stay as the fixtures made
them, so every example meets the same world (deterministic), and on PostgreSQL one failed
statement cannot poison the requests after it.
"""

import json
import re

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from .conftest import HOME_SITE, PERSONAS

# Examples per operation: each one goes out 18 times (9 callers × generated and real ids).
MAX_EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

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
        transaction.set_rollback(True)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as exc:
        detail = str(exc)
        if raised:
            detail += "\nServer traceback:\n" + raised[-1]
        return detail
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
