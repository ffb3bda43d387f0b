from collections.abc import Mapping

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django_otp import match_token
from drf_spectacular.utils import extend_schema
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import mixins, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cases import access, audit, selectors, services
from cases.models import AccessKind, AccessLog, Client, ClientStatusEvent, SupportGroup
from cases.security import lockout, tokens
from cases.security.middleware import needs_second_factor

from . import rows
from .base import ID_PATTERN, BaseViewSet, ReadCreateUpdateViewSet
from .filters import ClientFilter, FacilityFilter, SupportGroupFilter, UserFilter
from .serializers import (
    AccessLogSerializer,
    BreakGlassResultSerializer,
    BreakGlassSerializer,
    ClientDetailSerializer,
    ClientSerializer,
    ClientShareResultSerializer,
    ClientShareSerializer,
    ClientStatusChangeSerializer,
    ClientStatusEventSerializer,
    FacilitySerializer,
    SiteSerializer,
    SupportGroupSerializer,
    UserSerializer,
)


class ClientViewSet(ReadCreateUpdateViewSet):
    serializer_class = ClientSerializer
    filterset_class = ClientFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database
            return Client.objects.none()
        return selectors.client_rows(access.clients_visible_to(self.request.user))

    def get_serializer_class(self):
        # One client comes with the history of its status; list rows do not.
        return ClientSerializer if self.action == "list" else ClientDetailSerializer

    def get_object(self):
        client = access.client_for_user(self.request.user, self.kwargs["pk"])
        return self._row(client)

    # Reads go the lean way (cases.api.rows): the same JSON as ClientSerializer, without a
    # model instance and thirty DRF fields per row; count + page + support groups.
    def list(self, request, *args, **kwargs):
        fields = rows.readable_fields(request.user)
        clients = self.filter_queryset(access.clients_visible_to(request.user))
        counted = rows.CountedRows(clients, fields, ids_first=access.has_personal_reach(request.user))
        page = self.paginate_queryset(counted)
        data = audit.log_rows(rows.client_data(page, fields), kind=AccessKind.LIST)
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        # The policy's scope narrowed to one id (what access.client_for_user asks) is the
        # access check and the read in one query; out of reach is 404 like an unknown id.
        fields = rows.readable_fields(request.user)
        one = self.get_queryset().filter(pk=kwargs["pk"]).order_by()  # one row: nothing to sort
        found = rows.client_data(rows.values(one, fields), fields)
        if not found:
            raise Http404
        audit.log_client_read(Client(pk=int(kwargs["pk"])))
        history = ClientStatusEvent.objects.filter(client_id=kwargs["pk"]).order_by("effective_date", "id")
        return Response({**found[0], "status_history": ClientStatusEventSerializer(history, many=True).data})

    @extend_schema(responses=AccessLogSerializer(many=True))
    # The client list's filters are not this list's: none are read or documented here.
    @action(detail=True, methods=["get"], url_path="access-log", filter_backends=[])
    def access_log(self, request, pk=None):
        """Who read or changed this client and its records (supervisors of the site, admins)."""
        client = access.client_for_action(request.user, pk, access.can_view_access_log)
        entries = AccessLog.objects.filter(client_id=client.pk).select_related("user").order_by("-at", "-id")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(AccessLogSerializer(page, many=True).data)

    def _row(self, client):
        """The client as a list row, with its computed follow-up fields (for ClientSerializer)."""
        groups = Prefetch("support_groups", queryset=SupportGroup.objects.only("id"))
        return self.get_queryset().prefetch_related(groups).get(pk=client.pk)

    def create(self, request, *args, **kwargs):
        # Ask before validating, so a refused user learns nothing from field errors.
        if not access.can_create_client(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = self._row(services.client_register(actor=self.request.user, **data))
        # The answer carries the client: a read like any other.
        audit.log_client_reads([serializer.instance.pk], kind=AccessKind.DETAIL, what="write")

    def update(self, request, *args, partial=False, **kwargs):
        client = access.client_for_change(request.user, kwargs["pk"])
        serializer = self.get_serializer(client, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        client = services.client_update(actor=request.user, client=client, **serializer.validated_data)
        audit.log_client_reads([client.pk], kind=AccessKind.DETAIL, what="write")
        return Response(self.get_serializer(self._row(client)).data)

    @extend_schema(request=ClientStatusChangeSerializer, responses={201: ClientStatusEventSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        """Record a dated outcome: died, transferred out (to a facility outside the
        installation), stopped, or resumed care (`active`). Kept as history; reports count
        the client by its effective date (SPEC §12.1)."""
        client = access.client_for_action(request.user, pk, access.can_change_status)
        body = ClientStatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = services.client_status_change(actor=request.user, client=client, **body.validated_data)
        return Response(ClientStatusEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BreakGlassSerializer, responses={201: BreakGlassResultSerializer})
    @action(detail=True, methods=["post"], url_path="break-glass")
    def break_glass(self, request, pk=None):
        """Emergency access to a client of your site outside your reach: read for 24 hours,
        logged with your reason and shown to the site's supervisors."""
        client = access.client_for_break_glass(request.user, pk)
        body = BreakGlassSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = services.client_break_glass(actor=request.user, client=client, reason=body.validated_data["reason"])
        result = {"client": client.pk, "expires_at": grant.expires_at}
        return Response(BreakGlassResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClientShareSerializer, responses={201: ClientShareResultSerializer})
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        """Lend this client to a social worker of the site until a date (supervisors)."""
        client = access.client_for_action(request.user, pk, access.can_share)
        serializer = ClientShareSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        grant = services.client_share(actor=request.user, client=client, **serializer.validated_data)
        result = {
            "client": client.pk,
            "user": grant.user_id,
            "can_edit": serializer.validated_data["can_edit"],
            "expires_at": grant.expires_at,
        }
        return Response(ClientShareResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=rf"share/(?P<user_id>{ID_PATTERN})")
    def share_revoke(self, request, pk=None, user_id=None):
        """End a share before its date (supervisors of the site, admins); logged."""
        client = access.client_for_action(request.user, pk, access.can_share)
        try:
            user = access.users_visible_to(request.user).get(pk=user_id)
        except (ValueError, TypeError, Client.DoesNotExist, access.User.DoesNotExist):
            raise Http404 from None
        services.client_share_revoke(actor=request.user, client=client, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganisationViewSet(ReadCreateUpdateViewSet):
    """Sites, support groups and facilities: readable as the policy allows, managed by admins."""

    def check_manage(self):
        if not access.can_manage_organisation(self.request.user):
            raise PermissionDenied

    def create(self, request, *args, **kwargs):
        self.check_manage()
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        self.get_object()  # out of reach is 404 before it is 403
        self.check_manage()
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.organisation_record_create(serializer.Meta.model, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.organisation_record_update(serializer.instance, **serializer.validated_data)


class SiteViewSet(OrganisationViewSet):
    serializer_class = SiteSerializer
    filterset_fields = ["code"]

    def get_queryset(self):
        return access.sites_visible_to(self.request.user)


class SupportGroupViewSet(OrganisationViewSet):
    serializer_class = SupportGroupSerializer
    filterset_class = SupportGroupFilter

    def get_queryset(self):
        return access.support_groups_visible_to(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.support_group_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.support_group_update(group=serializer.instance, **serializer.validated_data)


class FacilityViewSet(OrganisationViewSet):
    serializer_class = FacilitySerializer
    filterset_class = FacilityFilter

    def get_queryset(self):
        return access.facilities_visible_to(self.request.user)


class UserViewSet(ReadCreateUpdateViewSet):
    serializer_class = UserSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        return (
            access.users_visible_to(self.request.user)
            .prefetch_related(Prefetch("groups", queryset=Group.objects.select_related("support_group")))
            .order_by("username")
        )

    def create(self, request, *args, **kwargs):
        if not access.can_manage_users(request.user):
            raise PermissionDenied
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.user_create(actor=self.request.user, **serializer.validated_data)

    def update(self, request, *args, partial=False, **kwargs):
        target = access.user_for_change(request.user, kwargs["pk"])
        serializer = self.get_serializer(target, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        target = services.user_update(actor=request.user, user=target, **serializer.validated_data)
        return Response(self.get_serializer(target).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="reset-2fa")
    def reset_2fa(self, request, pk=None):
        """Reset the user's second factor (admins): their authenticator devices and API
        tokens end; the next sign-in enrols a new device."""
        try:
            target = access.users_visible_to(request.user).get(pk=pk)
        except (ValueError, TypeError, self.get_queryset().model.DoesNotExist):
            raise Http404 from None
        services.user_reset_second_factor(actor=request.user, user=target)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=UserSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        """The signed-in user."""
        return Response(self.get_serializer(request.user).data)


class BreakGlassReviewViewSet(mixins.ListModelMixin, BaseViewSet):
    """Emergency openings of clients, for the site's supervisors to review."""

    serializer_class = AccessLogSerializer

    def get_queryset(self):
        return access.break_glass_entries_visible_to(self.request.user).select_related("user")


class AuthTokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=8, help_text="The 6-digit code (supervisors and admins)."
    )


class AuthTokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(help_text="When the token ends unless used again (idle), at most its last day.")


class ObtainTokenView(ObtainAuthToken):
    """POST auth/token/ {username, password[, otp]} → {token, expiry}. A locked account or
    address answers 403 with the lockout message; supervisors and admins also give their
    second-factor code. Each call issues a new token (one per device); old ones stay until
    they expire or are revoked."""

    serializer_class = AuthTokenRequestSerializer

    @extend_schema(request=AuthTokenRequestSerializer, responses=AuthTokenResponseSerializer)
    def post(self, request, *args, **kwargs):
        # A body that is not an object (a JSON list) names no account: the serializer says 400.
        username = request.data.get("username", "") if isinstance(request.data, Mapping) else ""
        until = lockout.locked_until(request._request, username)
        if until:
            raise PermissionDenied(lockout.lockout_message(until))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if needs_second_factor(user):
            code = serializer.validated_data.get("otp", "")
            if not code:
                raise ValidationError({"otp": [_("Enter the code from your authenticator app.")]})
            if match_token(user, code) is None:
                raise ValidationError({"otp": [_("This code is not valid.")]})
        token, expiry = tokens.issue(user)
        return Response(AuthTokenResponseSerializer({"token": token, "expiry": expiry}).data)


class LogoutView(KnoxLogoutView):
    """POST auth/logout/ with the token: that token ends (204)."""

    authentication_classes = (tokens.TokenAuthentication,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)


class LogoutAllView(KnoxLogoutAllView):
    """POST auth/logoutall/ with a token: every token of the user ends (204)."""

    authentication_classes = (tokens.TokenAuthentication,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)
