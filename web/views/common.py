"""What every page shares: sign-in, no caching of client data, the site's clock."""

import functools
import zoneinfo

from django.contrib.auth.decorators import login_required
from django.utils import timezone
from django.views.decorators.cache import never_cache


def site_tzinfo(user):
    site = getattr(user, "site", None)
    return site.tzinfo if site is not None else zoneinfo.ZoneInfo("Asia/Jayapura")


def site_today(user):
    return timezone.localdate(timezone=site_tzinfo(user))


def page(view):
    """A signed-in page that may carry client data: never cached (SPEC §10), shown and
    parsed in the user's site time zone."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(site_tzinfo(request.user)):
            return view(request, *args, **kwargs)

    return login_required(never_cache(wrapper))
