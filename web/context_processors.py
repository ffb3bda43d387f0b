"""Add to TEMPLATES["OPTIONS"]["context_processors"] as "web.context_processors.unread_notifications"."""

from django.utils.functional import SimpleLazyObject

from cases import access


def unread_notifications(request):
    """The navbar badge: counted only when a template shows it (one COUNT query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: access.notifications_of(user).filter(read_at__isnull=True).count()
        )
    }
