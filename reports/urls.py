from django.urls import re_path

from .referrals import urlpatterns as referral_report_urlpatterns
from .timeline import ClientTimelineView

urlpatterns = [
    *referral_report_urlpatterns,
    re_path(r"^clients/(?P<pk>[0-9]{1,18})/timeline/$", ClientTimelineView.as_view(), name="client-timeline"),
]
