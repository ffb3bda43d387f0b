import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cases.models import Client, ClientStatus, Facility, FacilityKind, GroupKind, Role, SupportGroup, User
from cases.selectors import ArvState, clients_matching, with_arv_state


class DigitsField(forms.IntegerField):
    """A number written in digits only: Django's IntegerField also reads "12.0" or " 12 ",
    which the schema's integer does not allow."""

    def to_python(self, value):
        if value not in self.empty_values and not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


# The schema states the bounds the server enforces (a value outside them is a 400).
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A whole, positive id that fits the database's integer; anything else is a 400."""

    field_class = DigitsField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class TrueFalseFilter(django_filters.TypedChoiceFilter):
    """Strictly `true` or `false`: anything else is a 400, not a silently ignored filter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "maxLength": 100})
class SearchFilter(django_filters.CharFilter):
    """Text to look for, at most 100 characters (more is a 400)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)


class ClientFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClientStatus.choices)
    # Plain numbers, not model choices: an id out of the user's reach filters to nothing
    # instead of answering whether it exists.
    group = IdFilter(field_name="support_groups")
    assigned_to = IdFilter(field_name="assigned_social_worker")
    companion = IdFilter(field_name="companion")
    site = IdFilter(field_name="site")
    possible_duplicate = TrueFalseFilter()
    q = SearchFilter(method="search", label="Code or name contains")
    # Computed for the rows it filters only: the list counts clients without it (cases.api.rows).
    arv_state = django_filters.ChoiceFilter(choices=ArvState.choices, method="by_arv_state")

    class Meta:
        model = Client
        fields = ["status", "arv_state", "group", "assigned_to", "companion", "site", "possible_duplicate", "q"]

    def by_arv_state(self, queryset, name, value):
        return with_arv_state(queryset).filter(arv_state=value)

    def search(self, queryset, name, value):
        return clients_matching(queryset, value)


# Organisation filters: plain ids (an id out of reach filters to nothing, it does not answer
# whether it exists), choices and true/false stated in the schema as the server checks them.
class SupportGroupFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site")
    kind = django_filters.ChoiceFilter(choices=GroupKind.choices)

    class Meta:
        model = SupportGroup
        fields = ["site", "kind"]


class FacilityFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site")
    kind = django_filters.ChoiceFilter(choices=FacilityKind.choices)

    class Meta:
        model = Facility
        fields = ["site", "kind"]


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    site = IdFilter(field_name="site")
    facility = IdFilter(field_name="facility")
    is_active = TrueFalseFilter(field_name="is_active")

    class Meta:
        model = User
        fields = ["role", "site", "facility", "is_active"]
