"""Django admin for admins: referrals are read here and changed only through the services
(the API and the facility link), so the state machine and its events stay whole."""

from django.contrib import admin

from cases import access as cases_access

from .models import FacilityTeam, Referral, ReferralEvent


class ReadOnlyForAdmins:
    def has_module_permission(self, request):
        return cases_access.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return cases_access.is_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Referrals are cancelled, never deleted.
        return False


class ReferralEventInline(ReadOnlyForAdmins, admin.TabularInline):
    model = ReferralEvent
    fields = ("at", "status", "actor", "via_link", "note")
    readonly_fields = fields
    extra = 0


@admin.register(Referral)
class ReferralAdmin(ReadOnlyForAdmins, admin.ModelAdmin):
    list_display = ("id", "client", "to_facility", "service", "urgency", "status", "sent_at", "due_date")
    list_filter = ("status", "service", "urgency")
    search_fields = ("client__code",)
    list_select_related = ("client", "to_facility")
    exclude = ("link_nonce",)
    inlines = [ReferralEventInline]


@admin.register(FacilityTeam)
class FacilityTeamAdmin(ReadOnlyForAdmins, admin.ModelAdmin):
    list_display = ("facility", "auth_group")
