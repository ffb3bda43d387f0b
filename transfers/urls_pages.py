"""HTML pages of transfers, mounted at the site's root by basodara/urls.py."""

from django.urls import path, re_path

from . import views

ID = "(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("transfers/", views.transfer_inbox, name="transfer-inbox"),
    re_path(rf"^clients/{ID}/transfer/$", views.transfer_request, name="transfer-request"),
    re_path(rf"^transfers/{ID}/accept/$", views.transfer_accept, name="transfer-accept"),
    re_path(rf"^transfers/{ID}/decline/$", views.transfer_decline, name="transfer-decline"),
]
