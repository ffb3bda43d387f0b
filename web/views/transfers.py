"""Web pages of transfers (SPEC §12.3): the "Transfer" form from the client page, and the
supervisor's transfer inbox (incoming to accept with a worker or decline with a reason,
outgoing with their status). They ask transfers.access like the API."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import access as cases_access
from cases import audit
from cases.exceptions import Conflict
from transfers import access, services
from transfers.models import TransferStatus

from ..forms import apply_service_errors
from ..transfer_forms import TransferAcceptForm, TransferDeclineForm, TransferRequestForm
from .common import page

RECENT = 30  # decided transfers shown under the open ones


@page
def transfer_request(request, pk):
    user = request.user
    client = cases_access.client_for_action(user, pk, access.can_request_transfer)
    form = TransferRequestForm(request.POST or None, user=user, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_request(actor=user, client=client, **form.cleaned_data)
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            messages.success(request, _("Transfer of %(code)s requested.") % {"code": client.code})
            return redirect("transfer-inbox")
    return render(request, "transfers/transfer_form.html", {"form": form, "client": client})


@page
def transfer_inbox(request):
    user = request.user
    if not access.may_request_transfers(user):
        raise PermissionDenied
    visible = access.transfers_visible_to(user).select_related("client", "from_site", "to_site", "requested_by")
    if cases_access.is_admin(user):
        incoming, outgoing = visible.filter(status=TransferStatus.REQUESTED), visible.none()
    else:
        incoming = visible.filter(to_site_id=user.site_id, status=TransferStatus.REQUESTED)
        outgoing = visible.filter(from_site_id=user.site_id)[:RECENT]
    decided = visible.exclude(status=TransferStatus.REQUESTED)
    if not cases_access.is_admin(user):
        decided = decided.filter(to_site_id=user.site_id)
    incoming = [(t, TransferAcceptForm(transfer=t, prefix=f"t{t.pk}"), TransferDeclineForm(prefix=f"t{t.pk}"))
                for t in incoming]  # fmt: skip
    outgoing, decided = list(outgoing), list(decided[:RECENT])
    # Each row names a client: a read of it, logged.
    audit.client_reads_logger(what="transfer")([t.client_id for t, *_forms in incoming] +
                                               [t.client_id for t in outgoing + decided])  # fmt: skip
    context = {"incoming": incoming, "outgoing": outgoing, "decided": decided}
    return render(request, "transfers/transfer_inbox.html", context)


def _answer(request, pk, action):
    user = request.user
    transfer = access.transfer_for_user(user, pk)
    if not access.can_decide(user, transfer):
        raise PermissionDenied
    prefix = f"t{transfer.pk}"
    if action == "accept":
        form = TransferAcceptForm(request.POST, transfer=transfer, prefix=prefix)
    else:
        form = TransferDeclineForm(request.POST, prefix=prefix)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("transfer-inbox")
    try:
        if action == "accept":
            services.transfer_accept(actor=user, transfer=transfer, **form.cleaned_data)
        else:
            services.transfer_decline(actor=user, transfer=transfer, **form.cleaned_data)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    except Conflict as e:
        messages.error(request, str(e))
    else:
        done = _("Client %(code)s moved to your site.") if action == "accept" else _("Transfer of %(code)s declined.")
        messages.success(request, done % {"code": transfer.client.code})
    return redirect("transfer-inbox")


@require_POST
@page
def transfer_accept(request, pk):
    return _answer(request, pk, "accept")


@require_POST
@page
def transfer_decline(request, pk):
    return _answer(request, pk, "decline")
