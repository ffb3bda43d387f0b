from .urls import page_urlpatterns as urlpatterns  # noqa: F401
