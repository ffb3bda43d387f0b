from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Pages of 50 rows (`page_size` up to 200). A malformed `page` or `page_size` is a 400
    naming it, as the schema states its range; one sent empty is one left out, like every
    optional query parameter (cases.api.schema.empty_query_values); a page past the last is
    a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()  # `page` is a number, as documented

    def _number(self, request, name, low, high):
        raw = request.query_params.get(name)
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            message = _("Send a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
            raise ValidationError({name: [message]})
        return int(raw)

    def get_page_size(self, request):
        size = self._number(request, self.page_size_query_param, 1, self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator):
        number = self._number(request, self.page_query_param, 1, 10**9)
        return 1 if number is None else number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1, "maximum": 10**9},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
