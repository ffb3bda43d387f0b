"""API: visits, meetings, services and incidents (SPEC §8, §8.1)."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import access as cases_access
from cases.api.base import ReadCreateUpdateViewSet, ReadCreateViewSet
from cases.api.filters import IdFilter, TrueFalseFilter
from cases.api.reads import ClientReadsLogged
from cases.api.serializers import DefaultSiteMixin, RefuseUnwritableMixin
from cases.models import Client, User
from fieldsync.idempotency import idempotent

from . import access, services
from .models import (
    OPEN_INCIDENT_STATUSES,
    HomeVisit,
    HomeVisitRevision,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Meeting,
    ServiceRecord,
    VisitKind,
)


class ListRetrieveCreateUpdate(ClientReadsLogged, ReadCreateUpdateViewSet):
    """Outreach records are corrected, never deleted. Each names clients: every answer is
    logged as reads of them (ClientReadsLogged)."""


# --- visits ------------------------------------------------------------------------------------------


class VisitRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = HomeVisitRevision
        fields = ("changed_by", "changed_at", "before", "after")


class VisitSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=VisitKind.choices)
    version = serializers.IntegerField(required=False, min_value=1)
    revisions = VisitRevisionSerializer(many=True, read_only=True)

    create_only = ("client",)

    class Meta:
        model = HomeVisit
        fields = (
            "id",
            "client",
            "visitor",
            "visited_at",
            "kind",
            "missed_doses_7d",
            "pills_left",
            "health_complaints",
            "psychosocial",
            "family_support",
            "economic_situation",
            "services_provided",
            "needs",
            "plan",
            "next_visit_date",
            "version",
            "revisions",
        )
        read_only_fields = ("visitor",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["client"].queryset = cases_access.clients_for_records(request.user)


class ClientRecordFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client")


class VisitViewSet(ListRetrieveCreateUpdate):
    client_read_what = "visit"

    serializer_class = VisitSerializer
    filterset_class = ClientRecordFilter

    def get_queryset(self):
        return access.visits_visible_to(self.request.user).prefetch_related(
            Prefetch("revisions", queryset=HomeVisitRevision.objects.order_by("changed_at", "id"))
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        if not cases_access.can_record(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.visit_record(actor=self.request.user, **data)

    def update(self, request, *args, partial=False, **kwargs):
        visit = self.get_object()
        if not access.may_ever_correct_visit(request.user, visit):
            raise PermissionDenied
        serializer = self.get_serializer(visit, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        visit = services.visit_correct(actor=request.user, visit=visit, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=visit.pk)).data)


# --- meetings and services ---------------------------------------------------------------------------


class MeetingSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    attendees = serializers.PrimaryKeyRelatedField(many=True, queryset=Client.objects.all(), required=False)

    create_only = ("support_group",)

    class Meta:
        model = Meeting
        fields = ("id", "support_group", "date", "topic", "facilitator", "attendees")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["support_group"].queryset = access.meeting_groups_for(user)
            self.fields["facilitator"].queryset = access.incident_responder_candidates(user)
            # Membership of the group is checked by the service, with a message naming who.
            self.fields["attendees"].child_relation.queryset = cases_access.clients_visible_to(user)


class MeetingFilter(django_filters.FilterSet):
    support_group = IdFilter(field_name="support_group")


class MeetingViewSet(ListRetrieveCreateUpdate):
    client_read_what = "meeting"
    client_keys = ("attendees",)

    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter

    def get_queryset(self):
        # Attendees as this user may see them: a social worker sees only their own clients there.
        visible = cases_access.clients_visible_to(self.request.user).only("id")
        return access.meetings_visible_to(self.request.user).prefetch_related(Prefetch("attendees", queryset=visible))

    @idempotent
    def create(self, request, *args, **kwargs):
        if not access.can_record_meeting(request.user):  # field staff, not facility staff
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.meeting_record(actor=self.request.user, **serializer.validated_data)

    def update(self, request, *args, partial=False, **kwargs):
        meeting = self.get_object()
        if not access.meeting_groups_for(request.user).filter(pk=meeting.support_group_id).exists():
            raise PermissionDenied
        serializer = self.get_serializer(meeting, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        meeting = services.meeting_update(actor=request.user, meeting=meeting, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=meeting.pk)).data)


class ServiceRecordSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    class Meta:
        model = ServiceRecord
        fields = ("id", "client", "service", "date", "provider", "note", "amount")
        read_only_fields = ("provider",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["client"].queryset = cases_access.clients_for_records(request.user)


class ServiceRecordViewSet(ClientReadsLogged, ReadCreateViewSet):
    client_read_what = "service_record"

    serializer_class = ServiceRecordSerializer
    filterset_class = ClientRecordFilter

    def get_queryset(self):
        return access.services_visible_to(self.request.user)

    @idempotent
    def create(self, request, *args, **kwargs):
        if not cases_access.can_record(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.service_record(actor=self.request.user, **serializer.validated_data)


# --- incidents ----------------------------------------------------------------------------------------


class IncidentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentEvent
        fields = ("status", "actor", "at", "note")


class IncidentSerializer(DefaultSiteMixin, RefuseUnwritableMixin, serializers.ModelSerializer):
    responders = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.none(), required=False)
    breached = serializers.BooleanField(read_only=True)
    version = serializers.IntegerField(required=False, min_value=1)
    events = IncidentEventSerializer(many=True, read_only=True)

    create_only = ("site", "urgency")

    class Meta:
        model = Incident
        fields = (
            "id",
            "site",
            "client",
            "reporter_name",
            "reporter_phone",
            "kind",
            "urgency",
            "location",
            "description",
            "responders",
            "outcome",
            "status",
            "reported_at",
            "acknowledged_at",
            "responding_at",
            "resolved_at",
            "closed_at",
            "cancelled_at",
            "cancel_reason",
            "ack_due_at",
            "resolve_due_at",
            "breached",
            "version",
            "events",
        )
        read_only_fields = (
            "status",
            "reported_at",
            "acknowledged_at",
            "responding_at",
            "resolved_at",
            "closed_at",
            "cancelled_at",
            "cancel_reason",
            "ack_due_at",
            "resolve_due_at",
        )
        extra_kwargs = {"site": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["site"].queryset = cases_access.sites_visible_to(user)
            self.fields["client"].queryset = cases_access.clients_visible_to(user)
            self.fields["responders"].child_relation.queryset = access.incident_responder_candidates(user)


class IncidentActionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class IncidentCancelSerializer(IncidentActionSerializer):
    """A cancellation says why: `reason` is required and not blank."""

    reason = serializers.CharField(max_length=2000)


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)
    urgency = django_filters.ChoiceFilter(choices=Incident._meta.get_field("urgency").choices)
    client = IdFilter(field_name="client")
    open = TrueFalseFilter(method="filter_open")

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_open(self, queryset, name, value):
        return (
            queryset.filter(status__in=OPEN_INCIDENT_STATUSES)
            if value
            else queryset.exclude(status__in=OPEN_INCIDENT_STATUSES)
        )


class IncidentViewSet(ListRetrieveCreateUpdate):
    client_read_what = "incident"

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        return access.incidents_visible_to(self.request.user).prefetch_related("responders", "events")

    @idempotent
    def create(self, request, *args, **kwargs):
        if not access.can_report_incident(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.incident_report(actor=self.request.user, **data)

    def update(self, request, *args, partial=False, **kwargs):
        incident = self.get_object()
        if not access.may_move_incident(request.user, incident):
            raise PermissionDenied
        serializer = self.get_serializer(incident, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        incident = services.incident_update(actor=request.user, incident=incident, **serializer.validated_data)
        return Response(self.get_serializer(self._reread(incident)).data)

    def _move(self, request, pk, action_name, body_class=IncidentActionSerializer):
        incident = self.get_object()
        if not access.may_move_incident(request.user, incident):
            raise PermissionDenied
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        incident = services.incident_transition(
            actor=request.user, incident=incident, action=action_name, **body.validated_data
        )
        return Response(self.get_serializer(self._reread(incident)).data)

    def _reread(self, incident):
        """The incident as the list shows it; the one just written if the change took it out
        of the caller's reach (a volunteer who removed themselves from the responders)."""
        return self.get_queryset().filter(pk=incident.pk).first() or incident

    @extend_schema(request=IncidentActionSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._move(request, pk, "acknowledge")

    @extend_schema(request=IncidentActionSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        return self._move(request, pk, "respond")

    @extend_schema(request=IncidentActionSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._move(request, pk, "resolve")

    @extend_schema(request=IncidentActionSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._move(request, pk, "close")

    @extend_schema(request=IncidentCancelSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel with a `reason` (any open state)."""
        return self._move(request, pk, "cancel", IncidentCancelSerializer)
