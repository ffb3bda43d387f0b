"""The signed-in user's inbox."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cases import access
from cases.models import Notification
from cases.outbox import delivery

from .common import page

PAGE_SIZE = 30


@page
def notification_list(request):
    inbox = access.notifications_of(request.user).only("id", "kind", "text", "created_at", "read_at")
    number = request.GET.get("page", "1")
    notifications = Paginator(inbox, PAGE_SIZE).get_page(number if number.isdigit() else 1)
    return render(request, "web/notifications.html", {"notifications": notifications})


@require_POST
@page
def notification_read(request, pk):
    try:
        notification = access.notifications_of(request.user).get(pk=pk)
    except (Notification.DoesNotExist, ValueError):
        raise Http404 from None
    delivery.notification_mark_read(user=request.user, notification=notification)
    return redirect("notifications")
