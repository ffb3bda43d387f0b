"""Every demo account finds something in each of its boxes (the demo is for trying the app)."""

import pytest
from django.test import Client as Browser
from django.utils import translation
from django.utils.translation import gettext

from cases.models import Notification, NotificationStatus, User
from cases.outbox import delivery

from .test_seed_demo import output, seeded  # noqa: F401 (fixtures: the seeded demo)

# The empty state of each box, as its page says it.
EMPTY = [
    "No visits due.",
    "No late refills.",
    "No open tracing tasks.",
    "No open incidents.",
    "No referrals found.",
    "No notifications.",
]


def pages_of(user):
    pages = ["/"]
    if user.role != "facility_staff":  # nothing notifies facility staff: their inbox is the referrals
        pages.append("/notifications/")
    if user.role in ("volunteer", "social_worker", "supervisor", "facility_staff"):
        pages.append("/referrals/")
    if user.role in ("social_worker", "supervisor"):
        pages.append("/incidents/")
    return pages


@pytest.mark.usefixtures("output")
class TestBoxes:
    def test_every_account_has_something_in_each_box(self):
        with translation.override("id"):
            empty = [gettext(text) for text in EMPTY]
        # bin/run starts a worker that delivers what the scan queued; the inbox shows delivered ones.
        for pk in Notification.objects.filter(status=NotificationStatus.PENDING).values_list("pk", flat=True):
            delivery.notification_deliver(notification_id=pk)
        # The second site (Tidore) holds only a transfer waiting for its supervisor (its own test).
        users = list(
            User.objects.filter(is_active=True).exclude(username="admin").exclude(site__code="TDR").order_by("username")
        )
        assert {u.role for u in users} == {"supervisor", "social_worker", "volunteer", "facility_staff"}
        found = {}
        for user in users:
            browser = Browser(HTTP_ACCEPT_LANGUAGE="id")
            browser.force_login(user)
            for path in pages_of(user):
                response = browser.get(path)
                assert response.status_code == 200, (user.username, path)
                page = response.content.decode()
                missing = [text for text in empty if text in page]
                if missing:
                    found[f"{user.username} {path}"] = missing
        assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
