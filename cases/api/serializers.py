from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import access, selectors
from cases.models import (
    AccessLog,
    Client,
    ClientStatusEvent,
    ClosureReason,
    Facility,
    OutcomeStatus,
    ReferralService,
    Role,
    Site,
    SupportGroup,
    User,
)
from cases.selectors import ArvState

_EMPTY = (None, "", [], {})


def _comparable(value):
    if isinstance(value, (list, tuple)):
        return sorted(str(_comparable(v)) for v in value)
    if hasattr(value, "pk"):
        return str(value.pk)
    return "" if value is None else str(value)


class RefuseUnwritableMixin:
    """A field sent that the caller may not write answers 400 naming it (SPEC §12.5), never
    200 with the field silently dropped: a field of the resource that is read-only for the
    caller (by the policy or by nature, like `id`), or one the policy hides from them.

    Sending back a value unchanged is not a write (a client may PUT what it read); on create,
    an empty value is not one either. Keys that are no field of the resource at all are left
    to DRF, which ignores them. `field_refusals()` gives the policy's own message per field
    (e.g. that a client changes site only by a transfer); others get a plain one."""

    REFUSED = _("You may not change this field.")
    READ_ONLY = _("This field is set by the system and cannot be written.")
    # The fields given when the record is made and fixed after (a goal's plan, a visit's
    # client): read-only when the serializer updates a record, so refused there unless sent
    # back unchanged. `for_update` makes them read-only without a record: the update body the
    # schema documents (cases.api.schema.AutoSchema). (Comments, not the docstring: the
    # schema shows a serializer's docstring.)
    create_only = ()
    for_update = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.create_only and (self.for_update or isinstance(self.instance, models.Model)):
            for name in self.create_only:
                self.fields[name].read_only = True

    def field_refusals(self) -> dict:
        return {}

    def _contract_fields(self):
        meta = getattr(self, "Meta", None)
        names = set(getattr(meta, "fields", ()) or ())
        return names | set(getattr(self, "_declared_fields", {}))

    def _unchanged(self, field, value):
        if self.instance is None or isinstance(self.instance, (list, tuple)):
            return value in _EMPTY
        if field is None:
            return False
        try:
            current = field.to_representation(field.get_attribute(self.instance))
        except Exception:  # a figure computed for reads only: nothing to compare with
            return False
        return _comparable(current) == _comparable(value)

    def refused_fields(self, data) -> dict:
        if not hasattr(data, "keys"):
            return {}
        policy = self.field_refusals()
        contract = self._contract_fields()
        refused = {}
        for name in data.keys():
            field = self.fields.get(name)
            if field is not None and not field.read_only:
                continue
            if field is None and name not in contract and name not in policy:
                continue  # not a field of this resource
            if self._unchanged(field, data[name]):
                continue
            refused[name] = [str(policy.get(name) or (self.REFUSED if field is None else self.READ_ONLY))]
        return refused

    def to_internal_value(self, data):
        refused = self.refused_fields(data)
        if refused:
            raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class DefaultSiteMixin:
    """A new record without `site` is made at the caller's own site; a caller of no site (an
    admin) names one, or gets a 400 on `site`."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None and "site" not in attrs:
            user = self.context["request"].user
            if user.site_id is None:
                raise serializers.ValidationError({"site": _("This field is required.")})
            attrs["site"] = user.site
        return attrs


class ScopedFieldsMixin(RefuseUnwritableMixin):
    """Read-only or hidden fields decided by the policy, not by the serializer; a field
    the policy keeps from the caller is refused when sent (RefuseUnwritableMixin)."""

    _policy_refused = frozenset()

    def restrict_fields(self, *, readable, writable):
        refused = set()
        for name in list(self.fields):
            if name not in readable:
                self.fields.pop(name)
                refused.add(name)
            elif name not in writable:
                if not self.fields[name].read_only or name in self.create_only:
                    refused.add(name)
                self.fields[name].read_only = True
        self._policy_refused = frozenset(refused)

    def field_refusals(self) -> dict:
        return dict.fromkeys(self._policy_refused, self.REFUSED)


class ClientSerializer(DefaultSiteMixin, ScopedFieldsMixin, serializers.ModelSerializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none(), required=False)
    version = serializers.IntegerField(required=False, min_value=1, help_text=_("Send back the version you read."))
    next_refill_due = serializers.DateField(read_only=True, allow_null=True)
    days_late = serializers.IntegerField(read_only=True, allow_null=True)
    arv_state = serializers.ChoiceField(choices=ArvState.choices, read_only=True, allow_null=True)
    # Added to rows by outreach and referrals (cases.selectors.register_client_row_annotation).
    last_visit_date = serializers.DateField(read_only=True, allow_null=True)
    open_referrals = serializers.IntegerField(read_only=True)
    # Empty while the case is open (closed and reopened through casework's client actions).
    closure_reason = serializers.ChoiceField(choices=ClosureReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Client
        fields = access.CLIENT_FIELDS + access.CLIENT_ROW_FIELDS + ("last_visit_date", "open_referrals")
        read_only_fields = ("id", "code", "possible_duplicate")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None or getattr(self.context.get("view"), "swagger_fake_view", False):
            return  # no user (schema generation): the full contract
        user = request.user
        instance = self.instance if isinstance(self.instance, Client) else None
        self.restrict_fields(
            readable=access.client_readable_fields(user)
            + access.CLIENT_ROW_FIELDS
            + selectors.client_row_annotations(),
            writable=access.client_writable_fields(user, instance) + ("version",),
        )
        # Related choices are limited to what the user can see, so an id outside their reach
        # is "not found" like any other.
        scoped = {
            "site": access.sites_visible_to(user),
            "art_facility": access.facilities_visible_to(user),
            "support_groups": access.support_groups_visible_to(user),
            "assigned_social_worker": access.users_visible_to(user).filter(role=Role.SOCIAL_WORKER),
            "companion": access.users_visible_to(user).filter(role=Role.VOLUNTEER),
        }
        for name, queryset in scoped.items():
            field = self.fields.get(name)
            if field is None or field.read_only:
                continue
            target = field.child_relation if hasattr(field, "child_relation") else field
            target.queryset = queryset

    def field_refusals(self) -> dict:
        request = self.context.get("request")
        if request is None:
            return {}
        instance = self.instance if isinstance(self.instance, Client) else None
        return access.client_field_refusals(request.user, instance)


class ClientStatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClientStatusEvent
        fields = ("status", "effective_date", "reason", "recorded_by", "recorded_at")
        read_only_fields = fields


class ClientDetailSerializer(ClientSerializer):
    """One client: the row, and the history of its status (SPEC §12.7)."""

    status_history = ClientStatusEventSerializer(many=True, read_only=True, source="status_events")

    class Meta(ClientSerializer.Meta):
        fields = ClientSerializer.Meta.fields + ("status_history",)
        read_only_fields = ClientSerializer.Meta.read_only_fields + ("status_history",)

    def restrict_fields(self, *, readable, writable):
        super().restrict_fields(readable=(*readable, "status_history"), writable=writable)


class ClientStatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OutcomeStatus.choices)
    effective_date = serializers.DateField(help_text=_("The day it happened (site-local), not today's by default."))
    reason = serializers.CharField(max_length=500, help_text=_("Who reported it, where the client went, why."))


class ClientShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())
    until = serializers.DateField()
    can_edit = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["user"].queryset = access.users_visible_to(request.user)


class ClientShareResultSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    user = serializers.IntegerField()
    can_edit = serializers.BooleanField()
    expires_at = serializers.DateTimeField()


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "21:00",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day at the site. OpenAPI's `time` format is RFC 3339's, which needs an
    offset; quiet hours have none, they follow the site's clock all year."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class SiteSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.TimeField: WallClockTimeField,
    }

    class Meta:
        model = Site
        fields = (
            "id",
            "name",
            "code",
            "timezone",
            "ltfu_days",
            "refill_upcoming_days",
            "refill_missed_days",
            "tracing_days",
            "quiet_hours_start",
            "quiet_hours_end",
            "client_sms_template",
        )


class SupportGroupSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    class Meta:
        model = SupportGroup
        fields = ("id", "site", "kind", "name", "coordinator")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["site"].queryset = access.sites_visible_to(request.user)
            self.fields["coordinator"].queryset = access.users_visible_to(request.user)


class FacilitySerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    services = serializers.ListField(child=serializers.ChoiceField(choices=ReferralService.choices), required=False)

    class Meta:
        model = Facility
        fields = ("id", "name", "kind", "services", "site", "contact_phone", "address")


class UserSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    support_groups = serializers.PrimaryKeyRelatedField(many=True, queryset=SupportGroup.objects.none(), required=False)

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "password",
            "role",
            "site",
            "support_groups",
            "facility",
            "first_name",
            "last_name",
            "email",
            "phone",
            "is_active",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None or getattr(self.context.get("view"), "swagger_fake_view", False):
            return  # no user (schema generation): the full contract
        user = request.user
        self.fields["support_groups"].child_relation.queryset = access.support_groups_visible_to(user)
        self.fields["site"].queryset = access.sites_visible_to(user)
        self.fields["facility"].queryset = access.facilities_visible_to(user)
        if not access.can_manage_users(user):
            self.restrict_fields(readable=self.fields.keys(), writable=())

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": _("This field is required.")})
        return attrs


class BreakGlassSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class BreakGlassResultSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class AccessLogSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", default=None, read_only=True, allow_null=True)

    class Meta:
        model = AccessLog
        fields = ("at", "user", "username", "action", "object_type", "object_id", "client", "fields", "ip", "reason")
        read_only_fields = fields
