from django.contrib import admin

from cases.admin import ReadOnlyAdmin

from .models import Action, Assessment, ClientClosure, Goal, Plan, Review, SocialProtection


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("client", "assessed_on", "kind", "assessor")
    list_filter = ("kind",)
    search_fields = ("client__code",)
    date_hierarchy = "assessed_on"


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ("client", "started_on", "ended_on")
    search_fields = ("client__code",)


@admin.register(Goal)
class GoalAdmin(ReadOnlyAdmin):
    list_display = ("client", "domain", "description", "status")
    list_filter = ("domain", "status")
    search_fields = ("client__code",)


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ("client", "description", "owner", "due_date", "status")
    list_filter = ("status",)
    search_fields = ("client__code",)


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("client", "reviewed_by", "created_at", "signed_off_by", "signed_off_at")
    search_fields = ("client__code",)


@admin.register(ClientClosure)
class ClientClosureAdmin(ReadOnlyAdmin):
    list_display = ("client", "closed_on", "reason", "reopened_on")
    list_filter = ("reason",)
    search_fields = ("client__code",)


@admin.register(SocialProtection)
class SocialProtectionAdmin(ReadOnlyAdmin):
    list_display = ("client", "bpjs_membership", "has_ktp", "has_kk", "updated_at")
    list_filter = ("bpjs_membership",)
    search_fields = ("client__code",)
