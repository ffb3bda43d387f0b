"""Sign in and out with Django's views and our templates."""

from django.contrib.auth import views as auth_views
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from cases import security


@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # Say plainly when the account is locked, and until when (SPEC §10).
        until = security.locked_until(self.request.POST.get("username", ""), security.client_ip(self.request))
        if until:
            return self.render_to_response(
                self.get_context_data(form=form, lockout_message=security.lockout_message(until))
            )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign anyone out."""

    next_page = "login"
