from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("sites", views.SiteViewSet, basename="site")
router.register("support-groups", views.SupportGroupViewSet, basename="supportgroup")
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("clients", views.ClientViewSet, basename="client")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="auth-token"),
    *router.urls,
]
