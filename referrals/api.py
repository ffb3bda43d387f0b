"""API: `referrals/` with its actions (SPEC §8, §8.1)."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import audit
from cases.api.base import ReadCreateUpdateViewSet
from cases.api.filters import IdFilter, TrueFalseFilter
from cases.api.serializers import ScopedFieldsMixin
from cases.models import AccessKind, Client, Facility, ReferralService, Sex
from fieldsync.idempotency import idempotent

from . import access, links, selectors, services
from .models import Referral, ReferralEvent, ReferralStatus


class ClientSummarySerializer(serializers.Serializer):
    """The minimum a facility learns about a client (selectors.client_as_facility_sees)."""

    code = serializers.CharField()
    nickname = serializers.CharField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    age = serializers.IntegerField()

    def to_representation(self, client):
        return super().to_representation(selectors.client_as_facility_sees(client))


class ReferralEventSerializer(serializers.ModelSerializer):
    # Plain text in the schema: the referral's `status` carries the one ReferralStatus enum.
    status = serializers.CharField(read_only=True, help_text=_("The status this step led to."))

    class Meta:
        model = ReferralEvent
        fields = ("status", "actor", "via_link", "at", "note")
        read_only_fields = fields


# Its enum is `ReferralServiceEnum` (SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES), also for
# facilities' `services`, the same choices: another `service` enum exists (outreach).
class ReferralServiceField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=ReferralService.choices, **kwargs)


class ReferralSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    to_facility = serializers.PrimaryKeyRelatedField(queryset=Facility.objects.none())
    service = ReferralServiceField()
    client_summary = ClientSummarySerializer(source="client", read_only=True)
    overdue = serializers.BooleanField(read_only=True)
    events = ReferralEventSerializer(many=True, read_only=True)
    facility_link = serializers.SerializerMethodField(
        help_text=_("The signed link for a facility without an account; null until sent, and once cancelled.")
    )
    version = serializers.IntegerField(required=False, min_value=1, help_text=_("Send back the version you read."))

    create_only = ("client",)

    class Meta:
        model = Referral
        fields = access.REFERRAL_FIELDS
        read_only_fields = (
            "id",
            "status",
            "from_user",
            "from_group",
            "outcome",
            "sent_at",
            "accepted_at",
            "closed_at",
            "created_at",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None or getattr(self.context.get("view"), "swagger_fake_view", False):
            return  # schema generation: the full contract
        user = request.user
        instance = self.instance if isinstance(self.instance, Referral) else None
        self.restrict_fields(
            readable=access.referral_readable_fields(user),
            writable=access.referral_writable_fields(user, instance),
        )
        if "client" in self.fields and not self.fields["client"].read_only:
            self.fields["client"].queryset = access.clients_referable_by(user)
        if "to_facility" in self.fields and not self.fields["to_facility"].read_only:
            self.fields["to_facility"].queryset = access.facilities_referable_by(user)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_facility_link(self, referral) -> str | None:
        """The link acts for the facility: only those who may send or cancel the referral
        get it (not a reader by emergency access or a read-only share). Decided for a whole
        page at once (one query), cached in the serializer's context."""
        request = self.context.get("request")
        if request is None:
            return None
        if hasattr(referral, "may_send"):
            return (links.url_for(referral, request) or None) if referral.may_send else None
        sendable = self.context.get("_sendable_clients")
        if sendable is None or referral.client_id not in sendable:
            page = getattr(self.parent, "instance", None) if self.parent is not None else None
            client_ids = {r.client_id for r in page} if isinstance(page, (list, tuple)) else set()
            client_ids.add(referral.client_id)
            allowed = access.clients_sendable_among(request.user, client_ids)
            sendable = {**(sendable or {}), **{pk: pk in allowed for pk in client_ids}}
            self.context["_sendable_clients"] = sendable
        if not sendable[referral.client_id]:
            return None
        return links.url_for(referral, request) or None


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ReasonSerializer(NoteSerializer):
    reason = serializers.CharField(max_length=2000)


class CompleteSerializer(NoteSerializer):
    outcome = serializers.CharField(max_length=2000, help_text=_("What happened: the service given, or why not."))
    result = serializers.ChoiceField(
        choices=[(ReferralStatus.COMPLETED, _("Completed")), (ReferralStatus.NOT_COMPLETED, _("Not completed"))],
        default=ReferralStatus.COMPLETED,
        help_text=_("completed when the service was given; not_completed when it could not be."),
    )


ACTION_SERIALIZERS = {
    "send": NoteSerializer,
    "accept": NoteSerializer,
    "decline": ReasonSerializer,
    "complete": CompleteSerializer,
    "cancel": ReasonSerializer,
}


class ReferralFilter(django_filters.FilterSet):
    box = django_filters.ChoiceFilter(
        choices=[("outbox", "outbox"), ("inbox", "inbox")],
        method="filter_box",
        label="outbox: sent by me; inbox: to my facility",
    )
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    client = IdFilter(field_name="client")
    to_facility = IdFilter(field_name="to_facility")
    service = django_filters.ChoiceFilter(choices=ReferralService.choices)
    overdue = TrueFalseFilter(method="filter_overdue")

    class Meta:
        model = Referral
        fields = ["box", "status", "client", "to_facility", "service", "overdue"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue=value)

    @extend_schema_field({"type": "string", "enum": ["outbox", "inbox"]})
    def filter_box(self, queryset, name, value):
        user = self.request.user
        if value == "outbox":
            return queryset.filter(from_user=user)
        return queryset.filter(to_facility_id=user.facility_id) if user.facility_id else queryset.none()


class ReferralViewSet(ReadCreateUpdateViewSet):
    """Referrals: created as drafts by the sending side, then moved by the actions."""

    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database
            return Referral.objects.none()
        user = self.request.user
        # Whether the reader may send or cancel each row (and so see its facility link),
        # computed in the rows' own query.
        return selectors.referral_rows(access.referrals_visible_to(user)).annotate(
            may_send=Exists(access.clients_referable_by(user).filter(pk=OuterRef("client_id")))
        )

    def get_object(self):
        access.referral_for_user(self.request.user, self.kwargs["pk"])
        return self.get_queryset().get(pk=self.kwargs["pk"])

    # Each row names its client (code, nickname, sex, age at least): a read of that client,
    # the page's in one insert (SPEC §12.5).
    def list(self, request, *args, **kwargs):
        page = list(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        audit.log_client_reads(dict.fromkeys(r.client_id for r in page), kind=AccessKind.LIST, what="referral")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        audit.log_client_reads([referral.client_id], kind=AccessKind.DETAIL, what="referral")
        return Response(self.get_serializer(referral).data)

    def _respond(self, referral, status=200):
        row = self.get_queryset().get(pk=referral.pk)
        return Response(self.get_serializer(row).data, status=status)

    @idempotent
    def create(self, request, *args, **kwargs):
        # Ask before validating, so a refused user learns nothing from field errors.
        if not access.can_create_referral(request.user):
            raise PermissionDenied
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        referral = services.referral_create(actor=request.user, **data)
        return self._respond(referral, status=201)

    def update(self, request, *args, partial=False, **kwargs):
        referral = access.referral_for_user(request.user, kwargs["pk"])
        if not access.can_send(request.user, referral):
            raise PermissionDenied
        serializer = self.get_serializer(referral, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_update(actor=request.user, referral=referral, **serializer.validated_data)
        return self._respond(referral)

    def _act(self, request, pk, name):
        referral = access.referral_for_user(request.user, pk)
        if not access.may_act_for(request.user, referral, services.TRANSITIONS[name][2]):
            raise PermissionDenied
        body = ACTION_SERIALIZERS[name](data=request.data)
        body.is_valid(raise_exception=True)
        referral = services.referral_transition(
            action=name, referral=referral, actor=request.user, **body.validated_data
        )
        return self._respond(referral)

    @extend_schema(request=NoteSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send a draft to its facility (outside facilities need the client's consent to share)."""
        return self._act(request, pk, "send")

    @extend_schema(request=NoteSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The receiving facility accepts a sent referral."""
        return self._act(request, pk, "accept")

    @extend_schema(request=ReasonSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The receiving facility declines a sent referral, with a reason."""
        return self._act(request, pk, "decline")

    @extend_schema(request=CompleteSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The receiving facility closes an accepted referral with its outcome."""
        return self._act(request, pk, "complete")

    @extend_schema(request=ReasonSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The sending side cancels a referral that is not closed, with a reason."""
        return self._act(request, pk, "cancel")
