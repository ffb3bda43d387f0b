"""Sign in and out with Django's views and our templates."""

from base64 import b32encode

import segno
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.security import lockout


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # Say plainly when the account is locked, and until when (SPEC §10).
        until = lockout.locked_until(self.request, self.request.POST.get("username", ""))
        if until:
            return self.render_to_response(
                self.get_context_data(form=form, lockout_message=lockout.lockout_message(until))
            )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign anyone out."""

    next_page = "login"

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The offline store of the field app (SPEC §12.6) is wiped at sign-out: the page's
        # script deletes it first, and this asks the browser to clear the site's storage
        # (IndexedDB, the service worker and its caches) even where that script did not run.
        response["Clear-Site-Data"] = '"storage"'
        return response


@method_decorator(never_cache, name="dispatch")
class TwoFactorView(LoginRequiredMixin, View):
    """Second factor for supervisors and admins: enrol an authenticator app once (QR code of
    the TOTP secret), then confirm a 6-digit code at each sign-in."""

    template_name = "registration/two_factor.html"

    def _device(self, user):
        confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if confirmed:
            return confirmed, False
        device, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": "app"})
        return device, True

    def _render(self, request, device, enrolling, error=None):
        context = {"enrolling": enrolling, "error": error, "next": self._next(request)}
        if enrolling:
            context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
            context["secret"] = b32encode(device.bin_key).decode()
        return render(request, self.template_name, context, status=400 if error else 200)

    def _next(self, request):
        target = request.POST.get("next") or request.GET.get("next") or "/"
        allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
        return target if allowed else "/"

    def get(self, request):
        device, enrolling = self._device(request.user)
        return self._render(request, device, enrolling)

    def post(self, request):
        device, enrolling = self._device(request.user)
        code = request.POST.get("code", "").strip()
        if not device.verify_token(code):
            return self._render(request, device, enrolling, error=_("This code is not valid. Try the current one."))
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        otp_login(request, device)
        return redirect(self._next(request))
