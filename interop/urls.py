from django.urls import re_path

from .api import ClientFHIRView, SiteFHIRView

# Ids past the database's integer range would fail in the database, not answer 404.
urlpatterns = [
    re_path(r"^clients/(?P<pk>[0-9]{1,18})/fhir/$", ClientFHIRView.as_view(), name="client-fhir"),
    re_path(r"^sites/(?P<pk>[0-9]{1,18})/fhir/$", SiteFHIRView.as_view(), name="site-fhir"),
]
