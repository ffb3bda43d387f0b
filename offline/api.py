"""API: what the phone keeps for offline work (SPEC §12.6)."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import audit
from cases.models import AccessKind

from . import access, selectors


class OpenTracingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    opened_on = serializers.DateField()
    claimed_by_me = serializers.BooleanField()


class OfflineClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    nickname = serializers.CharField()
    next_refill_due = serializers.DateField(allow_null=True)
    next_visit_date = serializers.DateField(allow_null=True)
    last_visit_date = serializers.DateField(allow_null=True)
    open_tracing = OpenTracingSerializer(allow_null=True)


class ChoicesSerializer(serializers.Serializer):
    visit_kinds = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    tracing_methods = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    tracing_outcomes = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    facilities = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class OfflineCaseloadSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    synced_at = serializers.DateTimeField()
    today = serializers.DateField()
    offline_days = serializers.IntegerField()
    clients = OfflineClientSerializer(many=True)
    choices = ChoicesSerializer()


class OfflineCaseloadView(APIView):
    """The signed-in social worker's or volunteer's own caseload, as the phone keeps it offline:
    code, nickname, next due dates, last visit, open tracing; never NIK, address or HIV dates.
    Every client in it is logged as read."""

    @extend_schema(responses=OfflineCaseloadSerializer, operation_id="field_caseload")
    def get(self, request):
        user = request.user
        if not access.may_work_offline(user):
            raise PermissionDenied
        tzinfo = user.site.tzinfo  # field roles always belong to a site
        clients = selectors.offline_caseload(user, tzinfo=tzinfo)
        audit.log_client_reads([row["id"] for row in clients], kind=AccessKind.LIST, what="field_caseload")
        data = {
            "user": user.pk,
            "synced_at": timezone.now(),
            "today": timezone.localdate(timezone=tzinfo),
            "offline_days": user.site.offline_days,
            "clients": clients,
            "choices": selectors.offline_choices(user),
        }
        return Response(OfflineCaseloadSerializer(data).data)
