from django.urls import re_path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("transfers", api.TransferViewSet, basename="transfer")

urlpatterns = [
    re_path(r"^clients/(?P<id>[0-9]{1,18})/transfer/$", api.TransferRequestView.as_view(), name="client-transfer"),
    *router.urls,
]
