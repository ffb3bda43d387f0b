"""What the schema says of empty query values holds: an optional query parameter sent empty
(`?from=`, as a form's empty field sends it) is answered as if it were left out, and the
schema marks each such parameter `allowEmptyValue` (cases.api.schema.empty_query_values)."""

import pytest


@pytest.mark.django_db
def test_an_empty_optional_query_value_is_one_left_out(client, as_user, supervisor, client_a):
    schema = client.get("/api/schema/?format=json").json()
    api = as_user(supervisor)
    checked = 0
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None or "{" in path:
            continue
        optional = [p for p in operation.get("parameters", []) if p["in"] == "query" and not p.get("required")]
        if not optional:
            continue
        left_out = api.get(path)
        for parameter in optional:
            assert parameter.get("allowEmptyValue") is True, (path, parameter["name"])
            sent_empty = api.get(path, {parameter["name"]: ""})
            assert (sent_empty.status_code, sent_empty["Content-Type"]) == (
                left_out.status_code,
                left_out["Content-Type"],
            ), (path, parameter["name"], sent_empty.content[:300])
            if left_out["Content-Type"] == "application/json" and "count" in left_out.json():
                assert sent_empty.json()["count"] == left_out.json()["count"], (path, parameter["name"])
            checked += 1
    assert checked > 100  # every filter, paging and report parameter of every list and report
