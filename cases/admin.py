"""Django admin for admins. Writes go through the same services as the API, so codes,
grants and duplicate flags are right whichever door a record came in by."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from . import access, audit, services
from .models import (
    AccessKind,
    AccessLog,
    Client,
    ClientImport,
    Facility,
    Notification,
    Refill,
    Role,
    Site,
    SupportGroup,
    Tracing,
    TracingAttempt,
    User,
    ViralLoad,
)


class AdminsOnly:
    def has_module_permission(self, request):
        return access.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_admin(request.user)

    def has_add_permission(self, request):
        return access.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return access.is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        # Nothing here is deleted: people are deactivated, clients change status.
        return False

    def save_model(self, request, obj, form, change):
        # A change made here is logged like a service's (cases.audit).
        audit.save(obj)


@admin.register(Site)
class SiteAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ("code", "name", "timezone", "ltfu_days")
    search_fields = ("code", "name")


@admin.register(Facility)
class FacilityAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ("name", "kind", "site")
    list_filter = ("kind", "site")
    search_fields = ("name",)


@admin.register(SupportGroup)
class SupportGroupAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ("name", "kind", "site", "coordinator")
    list_filter = ("kind", "site")
    search_fields = ("name",)
    raw_id_fields = ("coordinator",)

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in ("site", "kind", "name", "coordinator")}
        if change:
            services.support_group_update(group=obj, **fields)
        else:
            form.instance = services.support_group_create(**fields)
            obj.pk = form.instance.pk


@admin.register(User)
class UserAdmin(AdminsOnly, BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "site", "facility", "is_active")
    list_filter = ("role", "site", "is_active")
    fieldsets = BaseUserAdmin.fieldsets[:2] + (
        ("BASODARA", {"fields": ("role", "site", "facility", "phone")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "password1", "password2", "role", "site", "facility")}),)
    readonly_fields = ("last_login", "date_joined")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        actor = request.user

        class ValidatedForm(form):
            def clean(self):
                cleaned = super().clean()
                user = self.instance
                for name in ("role", "site", "facility"):
                    if name in cleaned:
                        setattr(user, name, cleaned[name])
                if user.role == Role.FACILITY_STAFF and user.facility is not None:
                    user.site = user.facility.site
                try:
                    services.user_validate(
                        actor=actor, user=user, support_groups=access.support_groups_of(user) if user.pk else ()
                    )
                except ValidationError as e:
                    for field, messages in e.message_dict.items():
                        self.add_error(field if field in self.fields else None, messages)
                return cleaned

        return ValidatedForm

    def save_model(self, request, obj, form, change):
        obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(Client)
class ClientAdmin(AdminsOnly, admin.ModelAdmin):
    """Read-only: clients are registered and changed through the app, where the policy and
    the registry services apply."""

    list_display = ("code", "nickname", "site", "status", "assigned_social_worker", "possible_duplicate")
    list_filter = ("site", "status", "possible_duplicate")
    search_fields = ("code", "nickname")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Client rows shown here are reads like any other (SPEC §12.5): the page's rows in one
    # insert, a client's page as a detail read.
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            audit.log_rows(changelist.result_list, kind=AccessKind.LIST, what="admin", key="pk")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and original is not None:
            audit.log_client_reads([original.pk], kind=AccessKind.DETAIL, what="admin")
        return response


class ReadOnlyAdmin(AdminsOnly, admin.ModelAdmin):
    """Clinical history and the outbox are written by the app's services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Refill)
class RefillAdmin(ReadOnlyAdmin):
    list_display = ("client", "pickup_date", "days_supplied", "next_due", "facility", "returned_to_treatment")
    list_filter = ("days_supplied", "returned_to_treatment")
    search_fields = ("client__code",)
    date_hierarchy = "pickup_date"


@admin.register(ViralLoad)
class ViralLoadAdmin(ReadOnlyAdmin):
    list_display = ("client", "sample_date", "copies_per_ml", "suppressed")
    list_filter = ("suppressed",)
    search_fields = ("client__code",)


class TracingAttemptInline(admin.TabularInline):
    model = TracingAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("made_by", "made_at", "method", "outcome", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tracing)
class TracingAdmin(ReadOnlyAdmin):
    list_display = ("client", "opened_on", "status", "claimed_by", "closed_on", "close_reason")
    list_filter = ("status",)
    search_fields = ("client__code",)
    inlines = [TracingAttemptInline]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "recipient_key", "channel", "status", "created_at", "sent_at", "attempts")
    list_filter = ("kind", "channel", "status")
    # The text can hold a client's nickname: shown on the record, not in lists or search.
    readonly_fields = (
        "kind",
        "subject_type",
        "subject_id",
        "recipient_key",
        "channel",
        "status",
        "text",
        "created_at",
        "deliver_after",
        "enqueued_at",
        "claimed_at",
        "attempts",
        "last_error",
        "sent_at",
        "read_at",
    )
    exclude = ("recipient_user", "recipient_client", "site")


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "action", "object_type", "object_id", "client", "ip")
    list_filter = ("action",)
    search_fields = ("object_id",)


@admin.register(ClientImport)
class ClientImportAdmin(ReadOnlyAdmin):
    """The record of each client list imported; the file itself is never shown (it is
    encrypted, and gone once the import ends). Imports are made on the import page."""

    list_display = ("created_at", "site", "created_by", "status", "total_rows", "created_count", "skipped_count")
    list_filter = ("status", "site")
    exclude = ("content",)
