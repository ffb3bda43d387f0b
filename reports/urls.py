from django.urls import path, re_path

from cases.api.base import ID_PATTERN

from .api import (
    CascadeReportView,
    CaseloadReportView,
    CaseworkReportView,
    EmpowermentReportView,
    IncidentReportView,
    IndicatorClientsView,
    IndicatorReportView,
    NationalReportView,
    TransferReportView,
)
from .referrals import urlpatterns as referral_report_urlpatterns
from .timeline import ClientTimelineView

urlpatterns = [
    *referral_report_urlpatterns,
    path("reports/caseload/", CaseloadReportView.as_view(), name="report-caseload"),
    path("reports/cascade/", CascadeReportView.as_view(), name="report-cascade"),
    path("reports/incidents/", IncidentReportView.as_view(), name="report-incidents"),
    path("reports/empowerment/", EmpowermentReportView.as_view(), name="report-empowerment"),
    path("reports/casework/", CaseworkReportView.as_view(), name="report-casework"),
    path("reports/national/", NationalReportView.as_view(), name="report-national"),
    path("reports/transfers/", TransferReportView.as_view(), name="report-transfers"),
    path("reports/indicators/", IndicatorReportView.as_view(), name="report-indicators"),
    re_path(
        r"^reports/indicators/(?P<indicator_id>HIV\.IND\.[0-9]{1,3})/clients/$",
        IndicatorClientsView.as_view(),
        name="report-indicator-clients",
    ),
    re_path(rf"^clients/(?P<pk>{ID_PATTERN})/timeline/$", ClientTimelineView.as_view(), name="client-timeline"),
]
