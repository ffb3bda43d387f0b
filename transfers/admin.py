from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import Transfer


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("client", "from_site", "to_site", "status", "requested_at", "accepted_on")
    list_filter = ("status", "to_site", "from_site")
    search_fields = ("client__code",)
