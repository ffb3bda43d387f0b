from django.urls import re_path
from rest_framework.routers import SimpleRouter

from cases.api.base import ID_PATTERN

from . import api

router = SimpleRouter()
router.register("transfers", api.TransferViewSet, basename="transfer")

urlpatterns = [
    re_path(rf"^clients/(?P<id>{ID_PATTERN})/transfer/$", api.TransferRequestView.as_view(), name="client-transfer"),
    *router.urls,
]
