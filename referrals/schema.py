"""OpenAPI post-processing for referrals: what facility staff do not receive."""

from . import access

# Facility staff read a referral without the client id, the sender and the bearer link
# (SPEC §7): in responses these fields may be absent, so they are not `required`.
NOT_FOR_FACILITY_STAFF = tuple(f for f in access.REFERRAL_FIELDS if f not in access.REFERRAL_FIELDS_FACILITY)


def facility_fields_optional(result, generator, request, public):
    component = result.get("components", {}).get("schemas", {}).get("Referral")
    if component is None:
        return result
    component["required"] = [f for f in component.get("required", []) if f not in NOT_FOR_FACILITY_STAFF]
    for name in NOT_FOR_FACILITY_STAFF:
        prop = component["properties"].get(name)
        if prop is not None:
            note = "Absent for facility staff."
            prop["description"] = f"{prop['description']} {note}" if prop.get("description") else note
    return result
