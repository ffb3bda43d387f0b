from django.contrib import admin

from cases.admin import AdminsOnly, ReadOnlyAdmin

from .models import HomeVisit, HomeVisitRevision, Incident, IncidentEvent, IncidentTarget, Meeting, ServiceRecord


class RevisionInline(admin.TabularInline):
    model = HomeVisitRevision
    extra = 0
    can_delete = False
    readonly_fields = ("changed_by", "changed_at", "before", "after")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HomeVisit)
class HomeVisitAdmin(ReadOnlyAdmin):
    list_display = ("client", "visited_at", "kind", "visitor", "next_visit_date")
    list_filter = ("kind",)
    search_fields = ("client__code",)
    inlines = [RevisionInline]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("support_group", "date", "topic", "facilitator")


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ("client", "service", "date", "provider", "amount")
    list_filter = ("service",)
    search_fields = ("client__code",)


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("status", "actor", "at", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("id", "site", "kind", "urgency", "status", "reported_at", "ack_due_at", "resolve_due_at")
    list_filter = ("status", "urgency", "kind", "site")
    inlines = [IncidentEventInline]


@admin.register(IncidentTarget)
class IncidentTargetAdmin(AdminsOnly, admin.ModelAdmin):
    """A site's own acknowledge/resolve targets per urgency (defaults apply where none)."""

    list_display = ("site", "urgency", "acknowledge_minutes", "resolve_minutes")
