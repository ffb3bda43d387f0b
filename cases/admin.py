"""Django admin for admins. Writes go through the same services as the API, so codes,
grants and duplicate flags are right whichever door a record came in by."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from . import access, services
from .models import Client, Facility, Role, Site, SupportGroup, User


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
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2", "role", "site", "facility")}),
    )
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
                    services.user_validate(actor=actor, user=user, support_groups=access.support_groups_of(user)
                                           if user.pk else ())
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
