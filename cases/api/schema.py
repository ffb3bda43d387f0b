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
