from django.urls import path

from . import api

urlpatterns = [
    path("field/caseload/", api.OfflineCaseloadView.as_view(), name="field-caseload"),
]
