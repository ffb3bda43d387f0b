"""API of the case-management cycle (SPEC §12.2, §12.7): assessments/, plans/, goals/,
actions/, reviews/ with sign-off, closures/ (the history), and the client actions
close/, reopen/ and social-protection/."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import access as cases_access
from cases import audit
from cases.api.base import BaseViewSet, ReadCreateUpdateViewSet, ReadCreateViewSet, ReadViewSet
from cases.api.filters import IdFilter, TrueFalseFilter
from cases.api.serializers import RefuseUnwritableMixin
from cases.models import Client, ClosureReason
from empowerment import access as empowerment_access
from outreach import access as outreach_access
from referrals import access as referral_access

from . import access, services
from .models import (
    DOMAINS,
    MAX_NOTE,
    Action,
    ActionStatus,
    Assessment,
    AssessmentKind,
    BpjsMembership,
    ClientClosure,
    Domain,
    Goal,
    GoalStatus,
    Plan,
    Review,
    SocialProtection,
)


def _user(serializer):
    request = serializer.context.get("request")
    return request.user if request is not None else None


class LoggedReadsMixin:
    """Each record names a client: every one answered is logged as a read of that client."""

    read_what = "casework"

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit.client_reads_logger(what=self.read_what)([row.client_id for row in page])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        audit.log_client_read(record.client, what=self.read_what)
        return Response(self.get_serializer(record).data)


class ClientFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client")


# --- assessments ------------------------------------------------------------------------------------


class ScoresSerializer(serializers.Serializer):
    """Every domain, 1 (severe need) to 4 (no need)."""

    def get_fields(self):
        return {d: serializers.IntegerField(min_value=1, max_value=4, label=Domain(d).label) for d in DOMAINS}


class NotesSerializer(serializers.Serializer):
    """A note per domain, each optional."""

    def get_fields(self):
        return {
            d: serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True, label=Domain(d).label)
            for d in DOMAINS
        }


class AssessmentSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    scores = ScoresSerializer()
    notes = NotesSerializer(required=False)
    kind = serializers.ChoiceField(choices=AssessmentKind.choices, read_only=True)

    class Meta:
        model = Assessment
        fields = ("id", "client", "assessed_on", "scores", "notes", "assessor", "kind", "created_at")
        read_only_fields = ("assessor", "created_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["client"].queryset = access.clients_casework_writable_by(user)


class AssessmentFilter(ClientFilter):
    kind = django_filters.ChoiceFilter(choices=AssessmentKind.choices)


class AssessmentViewSet(LoggedReadsMixin, ReadCreateViewSet):
    """Assessments are recorded, never changed: a new one records what changed."""

    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    read_what = "assessment"

    def get_queryset(self):
        return access.assessments_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        if not access.may_write_casework_at_all(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.assessment_record(actor=self.request.user, **serializer.validated_data)


# --- plans, goals and actions ------------------------------------------------------------------------


class ActionSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    version = serializers.IntegerField(required=False, min_value=1)

    create_only = ("goal",)

    class Meta:
        model = Action
        fields = (
            "id",
            "goal",
            "client",
            "description",
            "owner",
            "due_date",
            "status",
            "done_on",
            "referral",
            "service_record",
            "enrolment",
            "version",
        )
        read_only_fields = ("client", "done_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["goal"].queryset = access.goals_visible_to(user).filter(
                client__in=access.clients_casework_writable_by(user).values("pk")
            )
            self.fields["owner"].queryset = access.owner_candidates(user)
            self.fields["referral"].queryset = referral_access.referrals_visible_to(user)
            self.fields["service_record"].queryset = outreach_access.services_visible_to(user)
            self.fields["enrolment"].queryset = empowerment_access.enrolments_visible_to(user)


class GoalSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    domain = serializers.ChoiceField(choices=Domain.choices)
    status = serializers.ChoiceField(choices=GoalStatus.choices, required=False)
    actions = ActionSerializer(many=True, read_only=True)

    create_only = ("plan",)

    class Meta:
        model = Goal
        fields = ("id", "plan", "client", "domain", "description", "status", "actions")
        read_only_fields = ("client",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["plan"].queryset = access.plans_visible_to(user).filter(
                client__in=access.clients_casework_writable_by(user).values("pk")
            )


class PlanSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    goals = GoalSerializer(many=True, read_only=True)
    started_on = serializers.DateField(required=False, help_text="The day the plan starts; today by default.")

    class Meta:
        model = Plan
        fields = ("id", "client", "started_on", "ended_on", "goals")
        read_only_fields = ("ended_on",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            self.fields["client"].queryset = access.clients_casework_writable_by(user)


class PlanFilter(ClientFilter):
    current = TrueFalseFilter(field_name="ended_on", lookup_expr="isnull", label="Current plans only")


def _actions_prefetch():
    return Prefetch("actions", queryset=Action.objects.order_by("due_date", "id"))


class PlanViewSet(LoggedReadsMixin, ReadCreateViewSet):
    """A client's plans, each with its goals and their actions; a plan ends when the case
    is closed."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    read_what = "plan"

    def get_queryset(self):
        goals = Goal.objects.prefetch_related(_actions_prefetch())
        return access.plans_visible_to(self.request.user).prefetch_related(Prefetch("goals", queryset=goals))

    def create(self, request, *args, **kwargs):
        if not access.may_write_casework_at_all(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.plan_create(actor=self.request.user, **serializer.validated_data)


class GoalFilter(ClientFilter):
    plan = IdFilter(field_name="plan")
    domain = django_filters.ChoiceFilter(choices=Domain.choices)
    status = django_filters.ChoiceFilter(choices=GoalStatus.choices)


class GoalViewSet(
    LoggedReadsMixin,
    ReadCreateUpdateViewSet,
):
    serializer_class = GoalSerializer
    filterset_class = GoalFilter
    read_what = "goal"

    def get_queryset(self):
        return access.goals_visible_to(self.request.user).prefetch_related(_actions_prefetch())

    def create(self, request, *args, **kwargs):
        if not access.may_write_casework_at_all(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.goal_create(actor=self.request.user, **serializer.validated_data)

    def update(self, request, *args, partial=False, **kwargs):
        goal = self.get_object()
        if not access.may_write_casework(request.user, goal.client):
            raise PermissionDenied
        serializer = self.get_serializer(goal, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        goal = services.goal_update(actor=request.user, goal=goal, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=goal.pk)).data)


class ActionFilter(ClientFilter):
    goal = IdFilter(field_name="goal")
    owner = IdFilter(field_name="owner")
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due on or before")


class ActionViewSet(
    LoggedReadsMixin,
    ReadCreateUpdateViewSet,
):
    """Actions of a plan's goals. Whoever was given one may tick it done (PATCH `status`)."""

    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    read_what = "action"

    def get_queryset(self):
        return access.actions_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        if not access.may_write_casework_at_all(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.action_create(actor=self.request.user, **data)

    def update(self, request, *args, partial=False, **kwargs):
        record = self.get_object()
        if not access.may_change_action(request.user, record):
            raise PermissionDenied
        serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        record = services.action_update(actor=request.user, action=record, **serializer.validated_data)
        return Response(self.get_serializer(record).data)


# --- reviews ------------------------------------------------------------------------------------------


class ReviewSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ("id", "client", "assessment", "note", "reviewed_by", "signed_off_by", "signed_off_at", "created_at")
        read_only_fields = ("reviewed_by", "signed_off_by", "signed_off_at", "created_at")
        # One review per reassessment: the service says so on `assessment`.
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _user(self)
        if user is not None:
            writable = access.clients_casework_writable_by(user)
            self.fields["client"].queryset = writable
            self.fields["assessment"].queryset = access.assessments_visible_to(user).filter(
                client__in=writable.values("pk")
            )


class ReviewFilter(ClientFilter):
    awaiting_sign_off = TrueFalseFilter(field_name="signed_off_at", lookup_expr="isnull", label="Not yet signed off")


class ReviewViewSet(LoggedReadsMixin, ReadCreateViewSet):
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    read_what = "review"

    def get_queryset(self):
        return access.reviews_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        if not access.may_write_casework_at_all(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.review_record(actor=self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """A supervisor of the client's site (or an admin) signs the review off, once."""
        review = access.review_for_user(request.user, pk)
        if not access.may_sign_off(request.user, review):
            raise PermissionDenied
        review = services.review_sign_off(actor=request.user, review=review)
        return Response(self.get_serializer(review).data)


# --- closures and social protection ----------------------------------------------------------------


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClientClosure
        fields = (
            "id",
            "client",
            "closed_on",
            "reason",
            "note",
            "closed_by",
            "closed_at",
            "reopened_on",
            "reopen_note",
            "reopened_by",
        )
        read_only_fields = fields


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClosureReason.choices)
    closed_on = serializers.DateField(help_text="The day the case closes (site-local).")
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ReopenSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, help_text="Why the case is reopened.")


class ClosureViewSet(LoggedReadsMixin, ReadViewSet):
    """The history of a client's closures and reopenings (close and reopen through
    POST clients/{id}/close/ and reopen/)."""

    serializer_class = ClosureSerializer
    filterset_class = ClientFilter
    read_what = "closure"

    def get_queryset(self):
        return access.closures_visible_to(self.request.user)


class SocialProtectionSerializer(RefuseUnwritableMixin, serializers.ModelSerializer):
    bpjs_membership = serializers.ChoiceField(choices=BpjsMembership.choices, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, min_value=0)
    # Nobody yet, before anything is recorded (the empty record with `version` 0).
    updated_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = SocialProtection
        fields = ("client", *services.SOCIAL_PROTECTION_FIELDS, "updated_by", "updated_at", "version")
        read_only_fields = ("client", "updated_by", "updated_at")


class CaseClientViewSet(BaseViewSet):
    """The cycle's actions on a client: close, reopen, social protection."""

    queryset = Client.objects.none()
    serializer_class = ClosureSerializer

    def _writable_client(self, pk):
        client = cases_access.client_for_action(self.request.user, pk, access.may_write_casework)
        return client

    @extend_schema(request=CloseSerializer, responses={201: ClosureSerializer})
    @action(detail=True, methods=["post"], url_path="close")
    def close(self, request, pk=None):
        """Close the case (terminasi) with a reason, date and note; a death or a move also
        dates the client's status."""
        client = self._writable_client(pk)
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closure = services.client_close(actor=request.user, client=client, **body.validated_data)
        return Response(ClosureSerializer(closure).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReopenSerializer, responses=ClosureSerializer)
    @action(detail=True, methods=["post"], url_path="reopen")
    def reopen(self, request, pk=None):
        """Reopen a closed case; the closure stays in its history."""
        client = self._writable_client(pk)
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closure = services.client_reopen(actor=request.user, client=client, **body.validated_data)
        return Response(ClosureSerializer(closure).data)

    @extend_schema(methods=["GET"], responses=SocialProtectionSerializer)
    @extend_schema(methods=["PUT", "PATCH"], request=SocialProtectionSerializer, responses=SocialProtectionSerializer)
    @action(detail=True, methods=["get", "put", "patch"], url_path="social-protection")
    def social_protection(self, request, pk=None):
        """BPJS Kesehatan, KTP/KK and social assistance; before anything is recorded, an
        empty record with `version` 0."""
        user = request.user
        client = cases_access.client_for_user(user, pk)
        if not access.clients_casework_readable_by(user).filter(pk=client.pk).exists():
            raise PermissionDenied
        record = SocialProtection.objects.filter(client=client).first() or SocialProtection(client=client, version=0)
        if request.method == "GET":
            audit.log_client_read(client, what="social_protection")
            return Response(SocialProtectionSerializer(record).data)
        if not access.may_write_casework(user, client):
            raise PermissionDenied
        body = SocialProtectionSerializer(record, data=request.data, partial=request.method == "PATCH")
        body.is_valid(raise_exception=True)
        record = services.social_protection_set(actor=user, client=client, **body.validated_data)
        return Response(SocialProtectionSerializer(record).data)
