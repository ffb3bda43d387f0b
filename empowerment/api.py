"""API: programmes, sessions and enrolments (SPEC §12.4, §12.7)."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from rest_framework import serializers
from rest_framework.response import Response

from cases import access as cases_access
from cases import audit
from cases.api.base import ReadCreateUpdateViewSet
from cases.api.filters import IdFilter
from cases.api.serializers import DefaultSiteMixin, RefuseUnwritableMixin
from cases.models import Client

from . import access, services
from .models import MAX_OTHERS, Enrolment, IncomeBand, Outcome, Programme, ProgrammeKind, ProgrammeSession


class ListRetrieveCreateUpdate(ReadCreateUpdateViewSet):
    """Programme records are corrected, never deleted."""


def _user(serializer):
    request = serializer.context.get("request")
    return request.user if request is not None else None


# --- programmes -----------------------------------------------------------------------------------


class ProgrammeSerializer(DefaultSiteMixin, RefuseUnwritableMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ProgrammeKind.choices)

    create_only = ("site",)

    class Meta:
        model = Programme
        fields = ("id", "site", "kind", "name", "start_date", "end_date", "facilitator", "partner", "support_group")
        extra_kwargs = {"site": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["site"].queryset = access.programme_sites_for(user)
            self.fields["facilitator"].queryset = access.facilitator_candidates(user)
            self.fields["support_group"].queryset = access.support_groups_for_programmes(user)


class ProgrammeFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site")
    support_group = IdFilter(field_name="support_group")
    kind = django_filters.ChoiceFilter(choices=ProgrammeKind.choices)


class ProgrammeViewSet(ListRetrieveCreateUpdate):
    serializer_class = ProgrammeSerializer
    filterset_class = ProgrammeFilter

    def get_queryset(self):
        return access.programmes_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        if not access.can_create_programme(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.programme_create(actor=self.request.user, **serializer.validated_data)

    def update(self, request, *args, partial=False, **kwargs):
        programme = self.get_object()
        if not access.may_manage(request.user, programme):
            raise PermissionDenied
        serializer = self.get_serializer(programme, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        programme = services.programme_update(actor=request.user, programme=programme, **serializer.validated_data)
        return Response(self.get_serializer(programme).data)


# --- sessions ----------------------------------------------------------------------------------------


class OthersSerializer(serializers.Serializer):
    """People who are not clients, counted by category, never named."""

    family = serializers.IntegerField(min_value=0, max_value=MAX_OTHERS, default=0)
    community = serializers.IntegerField(min_value=0, max_value=MAX_OTHERS, default=0)
    health_workers = serializers.IntegerField(min_value=0, max_value=MAX_OTHERS, default=0)


class SessionSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    attendees = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Client.objects.none(),
        required=False,
        help_text="Enrolled clients who came (those you may read; others' attendance is kept).",
    )
    others = OthersSerializer(required=False)

    create_only = ("programme",)

    class Meta:
        model = ProgrammeSession
        fields = ("id", "programme", "date", "topic", "attendees", "others")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["programme"].queryset = access.programmes_for_sessions(user)
            # Enrolment in the programme is checked by the service, with the codes it refuses.
            self.fields["attendees"].child_relation.queryset = cases_access.clients_visible_to(user)


class SessionFilter(django_filters.FilterSet):
    programme = IdFilter(field_name="programme")


class SessionViewSet(ListRetrieveCreateUpdate):
    serializer_class = SessionSerializer
    filterset_class = SessionFilter

    def get_queryset(self):
        user = self.request.user
        # Attendees as this user may see them: nobody learns of a client out of their reach.
        visible = cases_access.clients_visible_to(user).only("id")
        return access.sessions_visible_to(user).prefetch_related(Prefetch("attendees", queryset=visible))

    def create(self, request, *args, **kwargs):
        if not access.may_record_sessions_at_all(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.session_record(actor=self.request.user, **serializer.validated_data)

    def update(self, request, *args, partial=False, **kwargs):
        session = self.get_object()
        serializer = self.get_serializer(session, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        session = services.session_update(actor=request.user, session=session, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data)


# --- enrolments --------------------------------------------------------------------------------------


class EnrolmentSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_blank=True)
    income_before = serializers.ChoiceField(choices=IncomeBand.choices, required=False, allow_blank=True)
    income_after = serializers.ChoiceField(choices=IncomeBand.choices, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, min_value=1)

    create_only = ("programme", "client")

    class Meta:
        model = Enrolment
        fields = (
            "id",
            "programme",
            "client",
            "enrolled_on",
            "outcome",
            "outcome_on",
            "business_started",
            "income_before",
            "income_after",
            "employed",
            "version",
        )
        # Enrolled once: the service says so on `client` (and holds the programme's lock).
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["programme"].queryset = access.programmes_managed_by(user)
            self.fields["client"].queryset = access.clients_enrollable_by(user)


class EnrolmentFilter(django_filters.FilterSet):
    programme = IdFilter(field_name="programme")
    client = IdFilter(field_name="client")
    outcome = django_filters.ChoiceFilter(choices=[c for c in Outcome.choices if c[0]])


class EnrolmentViewSet(ListRetrieveCreateUpdate):
    """Each enrolment names a client: every one answered is logged as a read of that client."""

    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilter

    def get_queryset(self):
        return access.enrolments_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        audit.client_reads_logger(what="enrolment")([e.client_id for e in page])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        enrolment = self.get_object()
        audit.log_client_read(enrolment.client, what="enrolment")
        return Response(self.get_serializer(enrolment).data)

    def create(self, request, *args, **kwargs):
        if not access.can_create_programme(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.enrolment_create(actor=self.request.user, **data)

    def update(self, request, *args, partial=False, **kwargs):
        enrolment = self.get_object()
        if not access.may_manage(request.user, enrolment.programme):
            raise PermissionDenied
        serializer = self.get_serializer(enrolment, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        enrolment = services.enrolment_update(actor=request.user, enrolment=enrolment, **serializer.validated_data)
        return Response(self.get_serializer(enrolment).data)
