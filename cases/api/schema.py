"""The OpenAPI schema: update bodies, and post-processing (what some readers do not
receive, the errors every operation may answer)."""

from drf_spectacular import openapi

from cases import access

# The update counterpart of each serializer with `create_only` fields, made once so that
# PUT and PATCH of every view share one component.
_UPDATE_SERIALIZERS = {}


def _update_serializer_class(serializer_class):
    if serializer_class not in _UPDATE_SERIALIZERS:
        name = serializer_class.__name__.removesuffix("Serializer") + "UpdateSerializer"
        _UPDATE_SERIALIZERS[serializer_class] = type(
            name, (serializer_class,), {"__module__": serializer_class.__module__, "for_update": True}
        )
    return _UPDATE_SERIALIZERS[serializer_class]


class AutoSchema(openapi.AutoSchema):
    """The body of an update (PUT, PATCH) documents the fields an update may change: the
    fields fixed when the record was made (`create_only`, cases.api.serializers.
    RefuseUnwritableMixin) are not in it (sent back unchanged they are let through; changed,
    they are refused). Its component is `<Name>UpdateRequest` (`Patched…` for PATCH)."""

    def get_request_serializer(self):
        serializer = super().get_request_serializer()
        if self.method in ("PUT", "PATCH") and getattr(serializer, "create_only", ()):
            serializer_class = serializer if isinstance(serializer, type) else type(serializer)
            context = getattr(serializer, "_context", {})
            serializer = _update_serializer_class(serializer_class)(context=context)
        return serializer


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


# An error asked for as a download comes in the download's format (reports.export):
# CSV rows `field,message`, or a sheet of them.
DOWNLOAD_ERROR_SCHEMAS = {
    "text/csv": {"type": "string", "description": "Rows `field,message`."},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "type": "string",
        "format": "binary",
        "description": "A sheet of rows `field,message`.",
    },
}


def _response(description, component, media_types):
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {
        "description": description,
        "content": {
            media_type: {"schema": DOWNLOAD_ERROR_SCHEMAS.get(media_type, schema)} for media_type in media_types
        },
    }


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
            # Errors come as JSON, or in the media type the operation answers in (FHIR's JSON,
            # a report's CSV or XLSX download).
            media_types = ["application/json"] + sorted(
                {
                    media_type
                    for code, success in responses.items()
                    if code.startswith("2")
                    for media_type in success.get("content", {})
                    if (media_type.endswith("json") or media_type in DOWNLOAD_ERROR_SCHEMAS)
                    and media_type != "application/json"
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
    result = text_fields(result, generator, request, public)
    return empty_query_values(result, generator, request, public)


# What the server takes as an `Idempotency-Key` (fieldsync.idempotency.KEY_RE): 1 to 255
# visible ASCII characters.
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"}


# Text fields refuse the NUL character (DRF's ProhibitNullCharactersValidator) and drop the
# spaces around a value (`trim_whitespace`), so one that may not be blank needs a character
# that is not a space: not Python's whitespace, which is `\s` in Python and ECMA regular
# expressions plus the separators U+001C-U+001F and U+0085.
NO_NUL = r"^[^\x00]*$"
NOT_ONLY_SPACES = r"^[^\x00]*[^\s\x1c-\x1f\x85\x00][^\x00]*$"


def _plain_text(schema) -> bool:
    return schema.get("type") == "string" and not {"format", "enum", "pattern"} & set(schema)


def text_fields(result, generator, request, public):
    """Every text field of a request body, and every text query parameter, states that NUL is
    refused; one that may not be blank (`minLength` 1) also that spaces alone are blank."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        for prop in (component.get("properties") or {}).values():
            if _plain_text(prop) and not prop.get("readOnly"):
                prop["pattern"] = NOT_ONLY_SPACES if prop.get("minLength", 0) >= 1 else NO_NUL
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and _plain_text(schema):
                    schema["pattern"] = NOT_ONLY_SPACES if schema.get("minLength", 0) >= 1 else NO_NUL
    return result


def empty_query_values(result, generator, request, public):
    """An optional query parameter sent empty (`?from=`, as a form's empty field sends it) is
    the same as one left out: filters, report periods, `format` and paging alike
    (cases.api.pagination). The schema says so (`allowEmptyValue`). And the
    `Idempotency-Key` header states the keys the server takes."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
                if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                    parameter["schema"] = dict(IDEMPOTENCY_KEY_SCHEMA)
    return result
