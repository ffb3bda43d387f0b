"""`clients/{id}/fhir/` and `sites/{id}/fhir/`: one client's record, or every client of a
site, as a FHIR R4 Bundle for health-facility systems (interop.export says what is in it).

Served as application/fhir+json, or application/json to a client that asks for it. Errors
keep the API's own shape (SPEC §8), not OperationOutcome: this is an export, not a FHIR
server. `Cache-Control: no-store` comes with every signed-in response (cases.security).
"""

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from cases import access as cases_access
from cases import audit

from . import access, export

BUNDLE = OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 Bundle of type `collection`.")


class FHIRJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class FHIRExportView(APIView):
    renderer_classes = [FHIRJSONRenderer, JSONRenderer]

    def bundle(self, *, site, clients):
        """The Bundle's pieces; each chunk of clients is logged as read before it is written."""
        return export.bundle_pieces(
            user=self.request.user, site=site, clients=clients, log_reads=audit.client_reads_logger(what="fhir")
        )

    def download(self, response, filename):
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ClientFHIRView(FHIRExportView):
    @extend_schema(responses={200: BUNDLE})
    def get(self, request, pk):
        """The client's record: Patient (with the fields the reader may see), refills as
        MedicationDispense, viral loads and adherence counts as Observation, visits as
        Encounter, referrals as ServiceRequest with a Task for their workflow."""
        client = access.client_for_export(request.user, pk)
        clients = cases_access.clients_visible_to(request.user).filter(pk=client.pk)
        body = "".join(self.bundle(site=client.site, clients=clients))
        response = HttpResponse(body, content_type=request.accepted_renderer.media_type)
        return self.download(response, f"{client.code}.fhir.json")


class SiteFHIRView(FHIRExportView):
    @extend_schema(responses={200: BUNDLE})
    def get(self, request, pk):
        """Every client of the site who consented to sharing, as in the client export,
        streamed (supervisors of the site and admins). For very large sites,
        `manage.py export_fhir` writes a file."""
        site = access.site_for_export(request.user, pk)
        clients = access.shareable(cases_access.clients_visible_to(request.user).filter(site=site))
        response = StreamingHttpResponse(
            self.bundle(site=site, clients=clients), content_type=request.accepted_renderer.media_type
        )
        today = timezone.localdate(timezone=site.tzinfo)
        return self.download(response, f"basodara-{site.code}-{today:%Y%m%d}.fhir.json")
