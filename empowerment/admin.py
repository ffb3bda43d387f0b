from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import Enrolment, Programme, ProgrammeSession


@admin.register(Programme)
class ProgrammeAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "site", "start_date", "end_date", "partner")
    list_filter = ("kind", "site")
    search_fields = ("name", "partner")


@admin.register(ProgrammeSession)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ("programme", "date", "topic", "others_family", "others_community", "others_health_workers")
    exclude = ("attendees",)


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("programme", "client", "enrolled_on", "outcome", "outcome_on")
    list_filter = ("outcome",)
    search_fields = ("client__code",)
