"""OpenAPI post-processing for clients: what some readers do not receive."""

from cases import access


def duplicate_fields_optional(result, generator, request, public):
    """The duplicate flag is sent to supervisors and admins only (SPEC §12.5): in responses
    it may be absent, so it is not `required`."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in ("Client", "PatchedClient", "ClientDetail", "PatchedClientDetail"):
        component = schemas.get(name)
        if component is None:
            continue
        component["required"] = [f for f in component.get("required", []) if f not in access.DUPLICATE_FIELDS]
        for field in access.DUPLICATE_FIELDS:
            prop = component.get("properties", {}).get(field)
            if prop is not None:
                note = "Sent to supervisors and admins only."
                prop["description"] = f"{prop['description']} {note}" if prop.get("description") else note
    return result


# --- the errors every operation may answer (SPEC §8) ------------------------------------------

ERROR_COMPONENTS = {
    "ErrorDetail": {
        "type": "object",
        "description": "What went wrong, in the user's language.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": (
            "Each refused field (or `non_field_errors`, or `detail` for a body that could not be "
            "read) mapped to its messages; a field of a nested or listed value maps to the same "
            "shape, by name or position."
        ),
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {}},
                {"type": "object"},
                {"type": "string"},
            ]
        },
    },
}


def _response(description, component, media_types):
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {media_type: {"schema": schema} for media_type in media_types}}


def error_responses(result, generator, request, public):
    """Every operation documents the errors it can answer, with their shapes:
    400 (FieldErrors) where it reads a body or parameters, 401 and 403 where it needs a
    signed-in user, 404 where it names a record or a page, 409 where it writes (a stale
    `version`, a step already taken, an Idempotency-Key used for another body), and 503
    when the database or Redis is away (retry after the `Retry-After` header)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_COMPONENTS)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            writes = method != "get"
            named = any(p.get("in") == "path" for p in parameters)
            paged = any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)
            signed_in = {} not in operation.get("security", [{}])
            # Errors come as JSON, or in the media type the operation answers in (FHIR's).
            media_types = ["application/json"] + sorted(
                {
                    media_type
                    for code, success in responses.items()
                    if code.startswith("2")
                    for media_type in success.get("content", {})
                    if media_type.endswith("json") and media_type != "application/json"
                }
            )
            wanted = {}
            if writes or any(p.get("in") in ("query", "header") for p in parameters):
                wanted["400"] = _response("Refused input: each field with its messages.", "FieldErrors", media_types)
            if signed_in:
                wanted["401"] = _response("Not signed in, or the token has expired.", "ErrorDetail", media_types)
                wanted["403"] = _response("Signed in, but not allowed to do this.", "ErrorDetail", media_types)
            if named or paged:
                wanted["404"] = _response(
                    "No such record within your reach (or no such page).", "ErrorDetail", media_types
                )
            if writes:
                wanted["409"] = _response(
                    "A conflict: changed meanwhile, a step no longer possible, or a reused Idempotency-Key.",
                    "ErrorDetail",
                    media_types,
                )
            wanted["503"] = _response(
                "A service it needs is away: retry after `Retry-After` seconds.", "ErrorDetail", media_types
            )
            for code, response in wanted.items():
                responses.setdefault(code, response)
    return result
