"""API: the signed-in user's notification inbox."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cases import access
from cases.api.base import ReadViewSet
from cases.api.filters import TrueFalseFilter
from cases.models import Notification

from .delivery import notification_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "kind", "text", "channel", "subject_type", "subject_id", "created_at", "read_at")
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = TrueFalseFilter(method="filter_unread")

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value)


class NotificationViewSet(ReadViewSet):
    """The signed-in user's own inbox."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return access.notifications_of(self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark as read."""
        notification = notification_mark_read(user=request.user, notification=self.get_object())
        return Response(self.get_serializer(notification).data)
