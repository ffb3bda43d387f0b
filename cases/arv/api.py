"""API: refills, viral loads and tracing."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import access
from cases.api.base import ReadCreateViewSet, ReadViewSet
from cases.api.filters import IdFilter
from cases.api.reads import ClientReadsLogged
from cases.api.serializers import RefuseUnwritableMixin
from cases.models import (
    Refill,
    Tracing,
    TracingAttempt,
    TracingMethod,
    TracingOutcome,
    TracingStatus,
    ViralLoad,
)
from fieldsync.idempotency import idempotent

from . import services


class ClientRecordSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    """A record about one client: the client must be one the user may record for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "client" in self.fields:
            self.fields["client"].queryset = access.clients_for_records(request.user)
        if request is not None and "facility" in self.fields:
            self.fields["facility"].queryset = access.facilities_visible_to(request.user)


class RefillSerializer(ClientRecordSerializer):
    class Meta:
        model = Refill
        fields = (
            "id",
            "client",
            "facility",
            "pickup_date",
            "days_supplied",
            "missed_doses",
            "next_due",
            "returned_to_treatment",
        )
        read_only_fields = ("next_due", "returned_to_treatment")


class ViralLoadSerializer(ClientRecordSerializer):
    class Meta:
        model = ViralLoad
        fields = ("id", "client", "sample_date", "copies_per_ml", "suppressed")
        read_only_fields = ("suppressed",)


class ClientRecordFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client")


class ClientRecordViewSet(ClientReadsLogged, ReadCreateViewSet):
    """Clinical records: listed and created, never deleted."""

    filterset_class = ClientRecordFilter
    model = None
    record_service = None

    def get_queryset(self):
        return access.records_visible_to(self.request.user, self.model)

    def get_object(self):
        return access.record_for_user(self.request.user, self.model, self.kwargs["pk"])

    @idempotent
    def create(self, request, *args, **kwargs):
        if not access.can_record(request.user):  # facility staff record nothing here
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = type(self).record_service(actor=self.request.user, **serializer.validated_data)


class RefillViewSet(ClientRecordViewSet):
    client_read_what = "refill"
    serializer_class = RefillSerializer
    model = Refill
    record_service = staticmethod(services.refill_record)


class ViralLoadViewSet(ClientRecordViewSet):
    client_read_what = "viral_load"
    serializer_class = ViralLoadSerializer
    model = ViralLoad
    record_service = staticmethod(services.viral_load_record)


class TracingAttemptSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    method = serializers.ChoiceField(choices=TracingMethod.choices)
    outcome = serializers.ChoiceField(choices=TracingOutcome.choices)

    class Meta:
        model = TracingAttempt
        fields = ("id", "made_by", "made_at", "method", "outcome", "note")
        read_only_fields = ("made_by", "made_at")


class TracingSerializer(serializers.ModelSerializer):
    attempts = TracingAttemptSerializer(many=True, read_only=True)
    client_code = serializers.CharField(source="client.code", read_only=True)

    class Meta:
        model = Tracing
        fields = (
            "id",
            "client",
            "client_code",
            "opened_on",
            "claimed_by",
            "claimed_at",
            "status",
            "closed_on",
            "close_reason",
            "attempts",
        )
        read_only_fields = fields


class TracingFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client")
    status = django_filters.ChoiceFilter(choices=TracingStatus.choices)
    claimed_by = IdFilter(field_name="claimed_by")


class TracingViewSet(ClientReadsLogged, ReadViewSet):
    """Tracing tasks, opened by the reminder scan when a refill is 7 days late."""

    client_read_what = "tracing"

    serializer_class = TracingSerializer
    filterset_class = TracingFilter

    def get_queryset(self):
        return (
            access.records_visible_to(self.request.user, Tracing)
            .select_related("client")
            .prefetch_related(Prefetch("attempts", queryset=TracingAttempt.objects.order_by("made_at", "id")))
        )

    def get_object(self):
        return access.record_for_user(self.request.user, Tracing, self.kwargs["pk"])

    def _workable(self, pk):
        tracing = self.get_object()
        if not access.can_work_tracing(self.request.user, tracing):
            raise PermissionDenied
        return tracing

    @extend_schema(request=None, responses=TracingSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Take this task; 409 if someone else holds it or it is closed."""
        tracing = services.tracing_claim(actor=request.user, tracing=self._workable(pk))
        return Response(self.get_serializer(self.get_queryset().get(pk=tracing.pk)).data)

    @extend_schema(request=TracingAttemptSerializer, responses={201: TracingAttemptSerializer})
    @idempotent  # above @action, which would replace the header's schema
    @action(detail=True, methods=["post"])
    def attempts(self, request, pk=None):
        """Log an attempt to reach the client (method, outcome, note)."""
        tracing = self._workable(pk)
        serializer = TracingAttemptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = services.tracing_record_attempt(actor=request.user, tracing=tracing, **serializer.validated_data)
        return Response(TracingAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)
