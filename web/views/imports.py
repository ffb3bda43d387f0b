"""Importing client lists: upload, a dry-run review with the column mapping, the
all-or-nothing commit, and its progress and result (admins and site supervisors)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cases import access, importing
from cases.exceptions import Conflict
from cases.models import ImportStatus, Sex

from .. import uploads
from ..forms import ClientImportReviewForm, ClientImportUploadForm, apply_service_errors
from .common import page

HISTORY_SIZE = 20
PREVIEW_ROWS = 20
# Beyond this the page lists the first errors and says how many more there are.
SHOWN_ERRORS = 200


@page
def import_upload(request):
    user = request.user
    if not access.may_import_clients(user):
        raise Http404
    posted = request.method == "POST"  # bound even when a too large file left the request empty
    form = ClientImportUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        user=user,
        too_large=uploads.upload_too_large(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            client_import = importing.client_import_upload(
                actor=user,
                site=form.site(),
                file_name=form.cleaned_data["file"].name,
                content=form.content(),
                sheet=form.cleaned_data["sheet"].strip(),
            )
        except ValidationError as e:
            apply_service_errors(form, e)
        else:
            return redirect("client-import", pk=client_import.pk)
    history = access.client_imports_visible_to(user).select_related("site", "created_by").defer("content")
    history = history[:HISTORY_SIZE]
    return render(request, "web/import_upload.html", {"form": form, "history": history})


@page
def import_detail(request, pk):
    user = request.user
    client_import = access.client_import_for_user(user, pk)
    if client_import.status != ImportStatus.UPLOADED:
        return render(request, "web/import_status.html", {"client_import": client_import})
    try:
        table = importing.client_import_table(client_import)
    except importing.ImportFileError as e:
        messages.error(request, str(e))
        return render(request, "web/import_status.html", {"client_import": client_import})
    form = ClientImportReviewForm(request.POST or None, table=table, client_import=client_import)
    # Discarding needs no valid choices.
    if request.method == "POST" and (request.POST.get("action") == "discard" or form.is_valid()):
        return _submit(request, client_import, form)
    plan = importing.client_import_check(actor=user, client_import=client_import)
    return render(request, "web/import_review.html", _review_context(client_import, form, plan))


def _submit(request, client_import, form):
    """Discard, preview again with the new choices, or commit them."""
    user = request.user
    action = request.POST.get("action")
    try:
        if action == "discard":
            importing.client_import_discard(actor=user, client_import=client_import)
            messages.info(request, _("The import was discarded and its file deleted."))
            return redirect("client-import-upload")
        client_import = importing.client_import_review(
            actor=user,
            client_import=client_import,
            mapping=form.mapping(),
            skip_duplicates=form.cleaned_data["skip_duplicates"],
            consent_date=form.cleaned_data["consent_date"],
        )
        if action == "commit":
            # Refused here while the reviewer can still correct the choices; once started,
            # a refused import is over and its file deleted.
            if importing.client_import_check(actor=user, client_import=client_import).has_errors:
                messages.error(request, _("Correct the errors below first: nothing was imported."))
            elif importing.client_import_start(actor=user, client_import=client_import).status == ImportStatus.UPLOADED:
                # Sent back to review: the queue could not be reached (cases.importing.workflow._enqueue).
                messages.error(request, _("The import could not be started just now; try again in a moment."))
    except Conflict as e:
        messages.error(request, str(e))
    return redirect("client-import", pk=client_import.pk)


def _review_context(client_import, form, plan):
    skip = client_import.skip_duplicates
    errors = plan.errors()
    return {
        "client_import": client_import,
        "form": form,
        "plan": plan,
        "preview": [_preview_row(row, skip) for row in plan.rows[:PREVIEW_ROWS]],
        "errors": errors[:SHOWN_ERRORS],
        "more_errors": max(0, len(errors) - SHOWN_ERRORS),
        "warnings": plan.warnings()[:SHOWN_ERRORS],
        "to_create": len(plan.to_create(skip_duplicates=skip)) if not plan.has_errors else 0,
        "to_skip": len(plan.to_skip(skip_duplicates=skip)),
        "duplicates": sum(r.duplicate for r in plan.rows),
    }


def _preview_row(row, skip_duplicates):
    """A row as it will be registered; the NIK shows its last four digits only."""
    fields = row.fields
    nik = fields.get("nik") or ""
    return {
        "number": row.number,
        "full_name": fields.get("full_name", ""),
        "nickname": fields.get("nickname", ""),
        "sex": Sex(fields["sex"]).label if fields.get("sex") else "",
        "date_of_birth": fields.get("date_of_birth"),
        "nik": f"…{nik[-4:]}" if nik else "",
        "groups": ", ".join(g.name for g in row.support_groups),
        "companion": getattr(fields.get("companion"), "username", ""),
        "social_worker": getattr(fields.get("assigned_social_worker"), "username", ""),
        "has_errors": bool(row.errors),
        "skipped": row.duplicate and skip_duplicates,
        "duplicate": row.duplicate,
    }
