from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from web.views.auth import TwoFactorView

from .health import health

# A database or Redis that is away answers 503 with Retry-After; other errors the plain 500.
handler404 = "basodara.errors.handler404"
handler500 = "basodara.errors.handler500"

urlpatterns = [
    path("health/", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.api.urls")),
    path("api/v1/", include("referrals.urls")),
    path("api/v1/", include("outreach.urls")),
    path("api/v1/", include("empowerment.urls")),
    path("api/v1/", include("transfers.urls")),
    path("api/v1/", include("casework.urls")),
    path("api/v1/", include("reports.urls")),
    path("api/v1/", include("interop.urls")),
    path("api/v1/", include("offline.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("2fa/", TwoFactorView.as_view(), name="two-factor"),
    path("", include("referrals.urls_pages")),
    path("", include("offline.urls_pages")),
    path("", include("web.urls")),
]
