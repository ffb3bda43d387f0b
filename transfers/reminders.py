"""The `transfer_requested` reminder (SPEC §12.3), through the outbox: the request itself
inserts it for the receiving site's supervisors; this scan inserts it for any supervisor of
that site who has not had it while the request is open (one who joined since, a request
made while the site had none). The outbox's unique key keeps it to one each."""

from django.utils.translation import gettext as _

from cases import outbox
from cases.models import NotificationKind

from .models import Transfer, TransferStatus
from .services import SUBJECT, notify_receiving_supervisors


@outbox.register_scan
def scan_transfers(*, site, today) -> dict:
    open_to_site = Transfer.objects.filter(to_site=site, status=TransferStatus.REQUESTED)
    return {NotificationKind.TRANSFER_REQUESTED: notify_receiving_supervisors(open_to_site)}


def _render(notification) -> str:
    transfer = Transfer.objects.select_related("client", "from_site").get(pk=notification.subject_id)
    return _("Transfer requested: client %(code)s from %(site)s to your site. Accept or decline it in Transfers.") % {
        "code": transfer.client.code,
        "site": transfer.from_site.name,
    }


outbox.register_renderer(SUBJECT, _render)
