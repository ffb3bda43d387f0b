from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from cases.api.base import ID_PATTERN

from . import api, views

# SimpleRouter: the API root view belongs to cases' router.
router = SimpleRouter()
router.register("referrals", api.ReferralViewSet, basename="referral")

urlpatterns = router.urls

# HTML pages, mounted outside /api/ by basodara/urls.py: the printable slip (signed in,
# sending side) and the facility link (no sign-in).
page_urlpatterns = [
    re_path(rf"^referrals/(?P<pk>{ID_PATTERN})/slip/$", views.slip, name="referral-slip"),
    path("r/<str:token>/", views.facility_link, name="referral-link"),
]
