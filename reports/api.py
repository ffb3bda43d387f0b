"""`reports/caseload/`, `reports/cascade/`, `reports/incidents/` (SPEC §8) and
`reports/indicators/` (SPEC §12.1): JSON, or a CSV/XLSX download with `?format=csv|xlsx`.
Filters: site (admins), group, worker, from, to. Supervisors and admins also open the
clients behind each indicator (`reports/indicators/{id}/clients/`)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.pagination import Pagination
from casework import access as casework_access
from outreach.models import IncidentStatus, Urgency

from . import access, caseload, casework, empowerment, incidents, indicators, national, transfers
from .export import CSVRenderer, XLSXRenderer
from .referrals import FigureSerializer  # value, n, definition
from .scope import PeriodQuery, ReportQuery, period, resolve

FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"], description="A download instead of JSON."
)


class ScopeSerializer(serializers.Serializer):
    site = serializers.IntegerField(allow_null=True)
    group = serializers.IntegerField(allow_null=True)
    worker = serializers.IntegerField(allow_null=True)
    period_from = serializers.DateField()
    period_to = serializers.DateField()


class WorkerRowSerializer(serializers.Serializer):
    worker_id = serializers.IntegerField()
    worker = serializers.CharField()
    username = serializers.CharField()
    clients = serializers.IntegerField()
    due = serializers.IntegerField()
    late = serializers.IntegerField()
    ltfu = serializers.IntegerField()
    visits = serializers.IntegerField()
    days_since_last_visit = serializers.IntegerField(allow_null=True)
    never_visited = serializers.IntegerField()
    open_referrals = serializers.IntegerField()
    open_incidents = serializers.IntegerField()


class CaseloadReportSerializer(ScopeSerializer):
    workers = WorkerRowSerializer(many=True)
    definitions = serializers.DictField(child=serializers.CharField())


class StageSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="Of the registered.")
    of_previous = serializers.IntegerField(allow_null=True, help_text="Of the stage before.")
    definition = serializers.CharField()


class FlowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    definition = serializers.CharField()


class CascadeReportSerializer(ScopeSerializer):
    stages = StageSerializer(many=True)
    flows = FlowSerializer(many=True)


class MeasureSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()


class UrgencyRowSerializer(serializers.Serializer):
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    count = serializers.IntegerField()
    median_minutes_to_acknowledge = MeasureSerializer()
    median_minutes_to_resolve = MeasureSerializer()
    acknowledged_within_target = MeasureSerializer()
    resolved_within_target = MeasureSerializer()


class IncidentReportSerializer(ScopeSerializer):
    total = serializers.IntegerField()
    total_definition = serializers.CharField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_kind = serializers.DictField(child=serializers.IntegerField())
    median_minutes_to_acknowledge = FigureSerializer()
    median_minutes_to_resolve = FigureSerializer()
    acknowledged_within_target = FigureSerializer()
    resolved_within_target = FigureSerializer()
    by_urgency = UrgencyRowSerializer(many=True)


class IndicatorSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="WHO SMART HIV id, e.g. HIV.IND.27.")
    code = serializers.CharField(help_text="WHO short code, e.g. ART.1.")
    name = serializers.CharField()
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)
    definition = serializers.CharField()
    breakdown = serializers.DictField(
        child=serializers.IntegerField(), allow_null=True, help_text="ART.2: ltfu, died, stopped, transferred_out."
    )
    by_sex = serializers.DictField(child=serializers.IntegerField(), help_text="The numerator by sex (F, M).")
    by_age = serializers.DictField(
        child=serializers.IntegerField(), help_text="The numerator by age at the period's end: <15 … 50+."
    )


class IndicatorReportSerializer(ScopeSerializer):
    ltfu_days = serializers.IntegerField(allow_null=True, help_text="Null when the sites counted differ.")
    indicators = IndicatorSerializer(many=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateField()
        self.fields["to"] = serializers.DateField()


class IndicatorClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    nickname = serializers.CharField()


class IndicatorClientsQuery(ReportQuery):
    part = serializers.ChoiceField(choices=["numerator", "denominator"], default="numerator")


class PageQuery(serializers.Serializer):
    """The paging parameters, as cases.api.pagination.Pagination reads them (for the schema)."""

    page = serializers.IntegerField(required=False, min_value=1, max_value=10**9)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=Pagination.max_page_size)


class IndicatorClientPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = IndicatorClientSerializer(many=True)


class ReportView(APIView):
    """A report for the caller's reach (reports.access), narrowed by the query's filters."""

    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    name = ""  # the download's file name starts with it
    as_of_end = False  # worked out as of the period's last day (reports.scope.resolve)

    def figures(self, user, scope) -> dict:
        raise NotImplementedError

    def tables(self, data) -> list:
        raise NotImplementedError

    def get(self, request):
        if not access.may_see_reports(request.user):
            raise PermissionDenied
        scope = resolve(request.user, request.query_params, as_of_end=self.as_of_end)
        self.scope = scope
        return Response({**scope.as_dict(), **self.figures(request.user, scope)})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        # Only a GET has a scope (an OPTIONS answers 200 too).
        if (
            renderer is not None
            and renderer.format in ("csv", "xlsx")
            and response.status_code == 200
            and request.method == "GET"
        ):
            scope = self.scope
            site = scope.site.code if scope.site else "all"
            filename = f"{self.name}-{site}-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.{renderer.format}"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class CaseloadReportView(ReportView):
    """Per social worker: clients in care, due, late, LTFU, visits in the period, days since
    the longest-waiting client's last visit, never visited, open referrals and incidents."""

    name = "caseload"
    COLUMNS = (
        "clients",
        "due",
        "late",
        "ltfu",
        "visits",
        "days_since_last_visit",
        "never_visited",
        "open_referrals",
        "open_incidents",
    )

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=CaseloadReportSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, user, scope):
        return {
            "workers": caseload.caseload_by_worker(user, scope),
            "definitions": caseload.caseload_definitions(user, scope),
        }

    def tables(self, data):
        header = ("worker", "username", *self.COLUMNS)
        rows = [(w["worker"], w["username"], *(w[c] for c in self.COLUMNS)) for w in data["workers"]]
        definitions = [(k, v) for k, v in data["definitions"].items()]
        return [(_("Caseload"), header, rows), (_("Definitions"), ("figure", "definition"), definitions)]


class CascadeReportView(ReportView):
    """The care cascade now (registered → on ART → refilled on time → VL tested →
    suppressed) and the period's LTFU and returns to treatment."""

    name = "cascade"
    as_of_end = True

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=CascadeReportSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, user, scope):
        return indicators.cascade(user, scope)

    def tables(self, data):
        header = ("figure", "label", "count", "percent_of_registered", "percent_of_previous", "definition")
        rows = [
            (s["key"], s["label"], s["count"], s["percent"], s["of_previous"], s["definition"]) for s in data["stages"]
        ]
        rows += [(f["key"], f["label"], f["count"], None, None, f["definition"]) for f in data["flows"]]
        return [(_("Cascade"), header, rows)]


class IncidentReportView(ReportView):
    """Incidents reported in the period: counts, median times to acknowledge and resolve,
    and the share within each incident's targets, overall and by urgency."""

    name = "incidents"
    FIGURES = (
        "median_minutes_to_acknowledge",
        "median_minutes_to_resolve",
        "acknowledged_within_target",
        "resolved_within_target",
    )

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=IncidentReportSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, user, scope):
        return incidents.incident_report(user, scope)

    def tables(self, data):
        summary = [("total", data["total"], data["total"], data["total_definition"])]
        summary += [(k, data[k]["value"], data[k]["n"], data[k]["definition"]) for k in self.FIGURES]
        summary += [(f"status:{s}", n, n, str(IncidentStatus(s).label)) for s, n in data["by_status"].items()]
        summary += [(f"kind:{k}", n, n, "") for k, n in data["by_kind"].items()]
        urgency_header = ("urgency", "count", *(f"{k}{suffix}" for k in self.FIGURES for suffix in ("", "_n")))
        urgency_rows = [
            (row["urgency"], row["count"], *(v for k in self.FIGURES for v in (row[k]["value"], row[k]["n"])))
            for row in data["by_urgency"]
        ]
        return [
            (_("Incidents"), ("figure", "value", "n", "definition"), summary),
            (_("By urgency"), urgency_header, urgency_rows),
        ]


class IndicatorReportView(ReportView):
    """The WHO SMART HIV indicators of SPEC §12.1 (ART.1, ART.2, ART.4, ART.6, ART.3, DSD.1)
    as of the period's end, with their definitions, ART.2's outcomes and the numerators by
    sex and age band."""

    name = "indicators"
    as_of_end = True
    AGE_COLUMNS = indicators.AGE_BANDS
    SEX_COLUMNS = indicators.SEXES

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=IndicatorReportSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, user, scope):
        return {"from": scope.start, "to": scope.end, **indicators.indicators(user, scope)}

    def tables(self, data):
        header = (
            "id",
            "code",
            "name",
            "numerator",
            "denominator",
            "percent",
            *(f"sex_{sex}" for sex in self.SEX_COLUMNS),
            *(f"age_{band}" for band in self.AGE_COLUMNS),
            *(f"outcome_{key}" for key in indicators.ATTRITION_OUTCOMES),
            "definition",
        )
        rows = [
            (
                row["id"],
                row["code"],
                row["name"],
                row["numerator"],
                row["denominator"],
                row["percent"],
                *(row["by_sex"][sex] for sex in self.SEX_COLUMNS),
                *(row["by_age"][band] for band in self.AGE_COLUMNS),
                *((row["breakdown"] or {}).get(key) for key in indicators.ATTRITION_OUTCOMES),
                row["definition"],
            )
            for row in data["indicators"]
        ]
        return [(_("Indicators"), header, rows)]


class IndicatorClientsView(APIView):
    """The clients behind one indicator's numerator or denominator (supervisors and admins):
    codes and nicknames only, each read logged."""

    @extend_schema(
        parameters=[IndicatorClientsQuery, PageQuery],
        responses=IndicatorClientPageSerializer,
    )
    def get(self, request, indicator_id):
        if not access.may_review_caseload(request.user):
            raise PermissionDenied
        indicator = indicators.BY_ID.get(indicator_id)
        if indicator is None:
            raise NotFound
        query = IndicatorClientsQuery(data=request.query_params, context={"user": request.user})
        query.is_valid(raise_exception=True)
        part = query.validated_data["part"]
        if indicator.predicate(part) is None:
            raise serializers.ValidationError({"part": _("This indicator has no denominator.")})
        scope = resolve(request.user, request.query_params, as_of_end=True)
        ids = indicators.indicator_client_ids(request.user, scope, indicator, part)
        paginator = Pagination()
        page = paginator.paginate_queryset(ids, request, view=self)
        clients = indicators.clients_behind(indicator, page)
        return paginator.get_paginated_response([{"id": c.pk, "code": c.code, "nickname": c.nickname} for c in clients])


class CountFigureSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    definition = serializers.CharField()


class OthersCountSerializer(serializers.Serializer):
    family = serializers.IntegerField()
    community = serializers.IntegerField()
    health_workers = serializers.IntegerField()


class EmpowermentReportSerializer(ScopeSerializer):
    programmes = CountFigureSerializer()
    sessions = CountFigureSerializer()
    enrolled = CountFigureSerializer()
    completed = CountFigureSerializer()
    dropped = CountFigureSerializer()
    business_started = CountFigureSerializer()
    income_up = CountFigureSerializer()
    employed = CountFigureSerializer()
    reached_clients = CountFigureSerializer()
    reached_others = CountFigureSerializer()
    reached_others_by_category = OthersCountSerializer()


class EmpowermentReportView(ReportView):
    """Community-based empowerment in the period, as of its end: programmes and sessions
    held, clients taking part, completed and dropped, economic outcomes, and the people
    reached by anti-stigma and education sessions (clients, and others by category)."""

    name = "empowerment"

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=EmpowermentReportSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, user, scope):
        return empowerment.empowerment_report(user, scope)

    def tables(self, data):
        rows = [(k, data[k]["value"], data[k]["definition"]) for k in empowerment.FIGURES]
        rows += [(f"reached_others:{k}", v, "") for k, v in data["reached_others_by_category"].items()]
        return [(_("Empowerment"), ("figure", "value", "definition"), rows)]


class TransferReportSerializer(ScopeSerializer):
    transfers_in = CountFigureSerializer()
    transfers_out = CountFigureSerializer()


class TransferReportView(ReportView):
    """Clients who moved to and from the site in the period (supervisors, admins)."""

    name = "transfers"

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=TransferReportSerializer)
    def get(self, request):
        if not transfers.may_see_transfer_report(request.user):
            raise PermissionDenied
        return super().get(request)

    def figures(self, user, scope):
        return transfers.transfer_report(user, scope)

    def tables(self, data):
        rows = [(k, data[k]["value"], data[k]["definition"]) for k in transfers.FIGURES]
        return [(_("Transfers"), ("figure", "value", "definition"), rows)]


class DomainChangeSerializer(serializers.Serializer):
    domain = serializers.CharField()
    label = serializers.CharField()
    improved = serializers.IntegerField()
    same = serializers.IntegerField()
    worse = serializers.IntegerField()


class DomainsImprovedSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Clients compared.")
    definition = serializers.CharField()
    domains = DomainChangeSerializer(many=True)


class ClosuresSerializer(CountFigureSerializer):
    by_reason = serializers.DictField(child=serializers.IntegerField())


class ShareFigureSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    n = serializers.IntegerField()
    definition = serializers.CharField()


class CaseworkReportSerializer(ScopeSerializer):
    open_cases = CountFigureSerializer()
    with_current_plan = ShareFigureSerializer()
    reviews_on_time = ShareFigureSerializer()
    domains_improved = DomainsImprovedSerializer()
    closures = ClosuresSerializer()
    reopened = CountFigureSerializer()


class CaseworkReportView(ReportView):
    """The case-management cycle in the period, as of its end: open cases with a current
    plan, reviews done on time, domains improved between the first and the latest assessment,
    closures by reason and reopenings."""

    name = "casework"
    as_of_end = True

    @extend_schema(parameters=[ReportQuery, FORMAT], responses=CaseworkReportSerializer)
    def get(self, request):
        # Scores and closures are read by the staff who write the cycle (casework.access):
        # a small group's aggregate would tell a volunteer one client's assessment.
        if not casework_access.may_write_casework_at_all(request.user):
            raise PermissionDenied
        return super().get(request)

    def figures(self, user, scope):
        return casework.casework_report(user, scope)

    def tables(self, data):
        rows = [("open_cases", data["open_cases"]["value"], None, data["open_cases"]["definition"])]
        for key in ("with_current_plan", "reviews_on_time"):
            rows.append((key, data[key]["value"], data[key]["n"], data[key]["definition"]))
        rows += [(f"closures:{r}", n, None, "") for r, n in data["closures"]["by_reason"].items()]
        rows.append(("reopened", data["reopened"]["value"], None, data["reopened"]["definition"]))
        figures = (_("Case management"), ("figure", "value", "of", "definition"), rows)
        domains = data["domains_improved"]
        domain_rows = [(d["domain"], d["improved"], d["same"], d["worse"], domains["n"]) for d in domains["domains"]]
        return [figures, (_("Domains"), ("domain", "improved", "same", "worse", "clients"), domain_rows)]


class NationalSiteSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    clients = serializers.IntegerField()
    on_art = serializers.IntegerField()
    programmes = serializers.IntegerField()
    sessions = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    completed = serializers.IntegerField()
    dropped = serializers.IntegerField()
    business_started = serializers.IntegerField()
    income_up = serializers.IntegerField()
    employed = serializers.IntegerField()
    reached_clients = serializers.IntegerField()
    reached_others = serializers.IntegerField()
    reached_others_by_category = OthersCountSerializer()


class NationalReportSerializer(serializers.Serializer):
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    sites = NationalSiteSerializer(many=True)
    definitions = serializers.DictField(child=serializers.CharField())


NATIONAL_COLUMNS = ("clients", "on_art", *empowerment.FIGURES)


class NationalReportView(APIView):
    """Admins: every site's figures side by side for a period (aggregates only)."""

    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(parameters=[PeriodQuery, FORMAT], responses=NationalReportSerializer)
    def get(self, request):
        if not national.may_see_national(request.user):
            raise PermissionDenied
        query = PeriodQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.start, self.end = period(query.validated_data, national.national_today())
        return Response(national.national_report(self.start, self.end))

    def tables(self, data):
        header = ("code", "name", *NATIONAL_COLUMNS)
        rows = [(s["code"], s["name"], *(s[c] for c in NATIONAL_COLUMNS)) for s in data["sites"]]
        definitions = list(data["definitions"].items())
        return [(_("National"), header, rows), (_("Definitions"), ("figure", "definition"), definitions)]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        # Only a GET has a period (an OPTIONS answers 200 too).
        if (
            renderer is not None
            and renderer.format in ("csv", "xlsx")
            and response.status_code == 200
            and request.method == "GET"
        ):
            filename = f"national-{self.start:%Y%m%d}-{self.end:%Y%m%d}.{renderer.format}"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
