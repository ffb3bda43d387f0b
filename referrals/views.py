"""HTML pages: the facility link (no sign-in) and the printable slip (sending side)."""

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases.exceptions import Conflict

from . import access, links, selectors, services
from .models import ReferralStatus


def _private(response):
    """Pages with client data: never cached, never indexed."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the link must not leak to other sites
    return response


class LinkStepForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a, (_s, _t, side) in services.TRANSITIONS.items() if side == "facility"]
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(required=False, max_length=2000, label=gettext_lazy("Reason for declining"))
    outcome = forms.CharField(required=False, max_length=2000, label=gettext_lazy("Outcome"))
    result = forms.ChoiceField(
        required=False,
        choices=[
            (ReferralStatus.COMPLETED, gettext_lazy("Service given (completed)")),
            (ReferralStatus.NOT_COMPLETED, gettext_lazy("Not completed")),
        ],
    )


@never_cache
@require_http_methods(["GET", "POST"])
def facility_link(request, token):
    """What the receiving facility sees through the signed link, and its three steps.

    A tampered, expired or revoked token is a plain 404 and changes nothing.
    """
    referral = links.referral_for_token(token)
    if referral is None:
        raise Http404
    form, message, status = LinkStepForm(), "", 200
    if request.method == "POST":
        form = LinkStepForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    services.referral_transition(
                        action=data["action"],
                        referral=referral,
                        # Whoever is signed in on this browser is recorded too (SPEC §12.5).
                        actor=request.user if request.user.is_authenticated else None,
                        via_link=True,
                        note=data["note"],
                        reason=data["reason"] if data["action"] == "decline" else "",
                        outcome=data["outcome"] if data["action"] == "complete" else "",
                        result=data["result"] or ReferralStatus.COMPLETED,
                    )
                message = _("Thank you: the referral is now %(status)s.")
            except Conflict:
                status = 409
                message = _("This step was already done or is no longer possible; nothing was changed.")
            except ValidationError as error:
                status = 400
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
        else:
            status = 400
        referral.refresh_from_db()
        if message and status == 200:
            message = message % {"status": referral.get_status_display()}
    context = {
        "referral": referral,
        "client": selectors.client_as_facility_sees(referral.client),
        # The link acts for the facility: its steps still open, each possible once.
        "steps": services.referral_steps_open(referral, sides={"facility": True}),
        "form": form,
        "message": message,
    }
    return _private(render(request, "referrals/link.html", context, status=status))


@never_cache
@login_required
def slip(request, pk):
    """A printable slip for the client to carry, with the link as a QR code."""
    referral = access.referral_for_user(request.user, pk)
    if not access.can_send(request.user, referral):
        raise Http404
    url = links.url_for(referral, request)
    if not url:
        raise Http404  # no slip before it is sent, nor once cancelled
    qr_svg = segno.make(url, error="m").svg_inline(scale=4, omitsize=False)
    sender = referral.from_user
    context = {
        "referral": referral,
        "client": selectors.client_as_facility_sees(referral.client),
        # Whom the facility calls back: the sending centre and the person who referred.
        "centre": referral.client.site,
        "sender": sender and {"name": sender.get_full_name() or sender.username, "phone": sender.phone},
        "url": url,
        "qr_svg": qr_svg,
        "expires_on": timezone.localdate(referral.sent_at + links.LINK_MAX_AGE),
    }
    return _private(render(request, "referrals/slip.html", context))
