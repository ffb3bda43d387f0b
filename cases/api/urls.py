from django.urls import path
from rest_framework.routers import DefaultRouter

from cases.arv import api as arv
from cases.outbox import api as outbox

from . import views

# No format suffixes (`clients/1.json`): the schema documents none, and `clients/0.5/` names
# no record (404) rather than a refused format.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("users", views.UserViewSet, basename="user")
router.register("sites", views.SiteViewSet, basename="site")
router.register("support-groups", views.SupportGroupViewSet, basename="supportgroup")
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("clients", views.ClientViewSet, basename="client")
router.register("refills", arv.RefillViewSet, basename="refill")
router.register("viral-loads", arv.ViralLoadViewSet, basename="viralload")
router.register("tracing", arv.TracingViewSet, basename="tracing")
router.register("notifications", outbox.NotificationViewSet, basename="notification")
router.register("break-glass", views.BreakGlassReviewViewSet, basename="breakglass")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logoutall/", views.LogoutAllView.as_view(), name="auth-logoutall"),
    *router.urls,
]
