"""API: transfers between sites (SPEC §12.3, §12.7): `POST clients/{id}/transfer/`, the
`transfers/` a supervisor sees, `POST transfers/{id}/accept/` and `decline/`."""

import django_filters
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import access as cases_access
from cases import audit
from cases.api.base import ReadViewSet
from cases.models import Site, User

from . import access, services
from .models import Transfer, TransferStatus


class TransferSerializer(serializers.ModelSerializer):
    client_code = serializers.CharField(source="client.code", read_only=True)

    class Meta:
        model = Transfer
        fields = (
            "id",
            "client",
            "client_code",
            "from_site",
            "to_site",
            "reason",
            "client_requested",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decline_reason",
            "assigned_social_worker",
            "accepted_on",
        )
        read_only_fields = fields


class TransferRequestSerializer(serializers.Serializer):
    to_site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    reason = serializers.CharField(max_length=500)
    client_requested = serializers.BooleanField(
        default=False, help_text="The client asked to move (needed when they have not consented to sharing)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user, client = self.context.get("user"), self.context.get("client")
        if user is not None and client is not None:
            self.fields["to_site"].queryset = access.destination_sites(user, client)


class TransferAcceptSerializer(serializers.Serializer):
    assigned_social_worker = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        allow_null=True,
        help_text="A social worker of the receiving site who takes the client (optional).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.context.get("user")
        if user is not None:
            self.fields["assigned_social_worker"].queryset = access.workers_assignable_by(user)


class TransferDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class TransferRequestView(APIView):
    """Ask another site to take this client (supervisors of the client's site). The client
    must have consented to sharing, or have asked for it (`client_requested`)."""

    @extend_schema(
        request=TransferRequestSerializer,
        responses={201: TransferSerializer},
        operation_id="v1_clients_transfer_create",
    )
    def post(self, request, id=None):
        client = cases_access.client_for_action(request.user, id, access.can_request_transfer)
        body = TransferRequestSerializer(data=request.data, context={"user": request.user, "client": client})
        body.is_valid(raise_exception=True)
        transfer = services.transfer_request(actor=request.user, client=client, **body.validated_data)
        return Response(TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices)
    box = django_filters.ChoiceFilter(
        choices=[("incoming", "incoming"), ("outgoing", "outgoing")],
        method="filter_box",
        label="incoming: to your site; outgoing: from it",
    )

    def filter_box(self, queryset, name, value):
        site_id = self.request.user.site_id
        return queryset.filter(to_site_id=site_id) if value == "incoming" else queryset.filter(from_site_id=site_id)


class TransferViewSet(ReadViewSet):
    """Transfers from and to your site (supervisors; admins all). Each one answered names a
    client: it is logged as a read of that client."""

    serializer_class = TransferSerializer
    filterset_class = TransferFilter

    def get_queryset(self):
        return access.transfers_visible_to(self.request.user).select_related("client")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit.client_reads_logger(what="transfer")([t.client_id for t in page])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        transfer = access.transfer_for_user(request.user, kwargs["pk"])
        audit.log_client_read(transfer.client, what="transfer")
        return Response(self.get_serializer(transfer).data)

    def _decidable(self, request, pk):
        transfer = access.transfer_for_user(request.user, pk)
        if not access.can_decide(request.user, transfer):
            raise PermissionDenied
        return transfer

    @extend_schema(request=TransferAcceptSerializer, responses={200: TransferSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Take the client (supervisors of the receiving site): it moves here with its whole
        history, optionally to one of your social workers; the old site loses it at once."""
        transfer = self._decidable(request, pk)
        body = TransferAcceptSerializer(data=request.data, context={"user": request.user})
        body.is_valid(raise_exception=True)
        transfer = services.transfer_accept(actor=request.user, transfer=transfer, **body.validated_data)
        return Response(self.get_serializer(access.transfer_for_user(request.user, transfer.pk)).data)

    @extend_schema(request=TransferDeclineSerializer, responses={200: TransferSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline the transfer, saying why (supervisors of the receiving site)."""
        transfer = self._decidable(request, pk)
        body = TransferDeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        transfer = services.transfer_decline(actor=request.user, transfer=transfer, **body.validated_data)
        return Response(self.get_serializer(access.transfer_for_user(request.user, transfer.pk)).data)
