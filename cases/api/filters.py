import django_filters
from django import forms

from cases.models import Client, ClientStatus
from cases.selectors import ArvState, clients_matching, with_arv_state


class IdFilter(django_filters.NumberFilter):
    """A whole, positive id that fits the database's integer; anything else is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ClientFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClientStatus.choices)
    # Plain numbers, not model choices: an id out of the user's reach filters to nothing
    # instead of answering whether it exists.
    group = IdFilter(field_name="support_groups")
    assigned_to = IdFilter(field_name="assigned_social_worker")
    companion = IdFilter(field_name="companion")
    site = IdFilter(field_name="site")
    # Strict true/false: anything else is a 400, not a silently ignored filter.
    possible_duplicate = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )
    q = django_filters.CharFilter(method="search", max_length=100, label="Code or name contains")
    # Computed for the rows it filters only: the list counts clients without it (cases.api.rows).
    arv_state = django_filters.ChoiceFilter(choices=ArvState.choices, method="by_arv_state")

    class Meta:
        model = Client
        fields = ["status", "arv_state", "group", "assigned_to", "companion", "site", "possible_duplicate", "q"]

    def by_arv_state(self, queryset, name, value):
        return with_arv_state(queryset).filter(arv_state=value)

    def search(self, queryset, name, value):
        return clients_matching(queryset, value)
