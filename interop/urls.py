from django.urls import re_path

from cases.api.base import ID_PATTERN

from .api import ClientFHIRView, SiteFHIRView

# Ids past the database's integer range would fail in the database, not answer 404.
urlpatterns = [
    re_path(rf"^clients/(?P<pk>{ID_PATTERN})/fhir/$", ClientFHIRView.as_view(), name="client-fhir"),
    re_path(rf"^sites/(?P<pk>{ID_PATTERN})/fhir/$", SiteFHIRView.as_view(), name="site-fhir"),
]
