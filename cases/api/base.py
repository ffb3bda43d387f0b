"""What every API resource and page URL is built on: one id pattern, one URL converter and
the viewsets, none of which deletes (records are corrected, deactivated or archived)."""

from django.urls import register_converter
from rest_framework import mixins, viewsets

# A whole id that fits the database's bigint: anything longer is simply not found (404),
# where it would otherwise fail in the database.
ID_PATTERN = "[0-9]{1,18}"


class IdConverter:
    """`<id:pk>` in a URL: an id as ID_PATTERN reads it, given to the view as an int."""

    regex = ID_PATTERN

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")


class BaseViewSet(viewsets.GenericViewSet):
    lookup_value_regex = ID_PATTERN


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Listed and read."""


class ReadCreateViewSet(mixins.CreateModelMixin, ReadViewSet):
    """Listed, read and created (records that are never changed afterwards)."""


class ReadCreateUpdateViewSet(mixins.UpdateModelMixin, ReadCreateViewSet):
    """Listed, read, created and corrected."""
