"""The clinic's TMS protocols: every version, drafting, changing a draft, signing.

Everyone who sees TMS reads them; only the medical director drafts and signs
(`MANAGE_PROTOCOLS`). A signed version shows no edit form: a change is a new version.
"""

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.tms import forms as f
from neuroclinic.tms import protocols
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsProtocol

# Action fields that the form shows under another name.
_FORM_FIELD = {"acute_weeks": "acute_weeks_min"}


def _version(request: AuthenticatedHttpRequest, version_uuid: uuid.UUID) -> TmsProtocol:
    try:
        return TmsProtocol.objects.select_related("signed_by", "created_by").get(
            uuid=version_uuid, organization_id=request.user.organization_pk
        )
    except TmsProtocol.DoesNotExist:
        raise Http404("No such protocol.") from None


def _put_errors(form: Any, exc: TmsError) -> None:
    for name, problems in exc.errors.items():
        field = _FORM_FIELD.get(name, name)
        for message in problems:
            form.add_error(field if field in form.fields else None, message)


@require_capability(Capability.VIEW_TMS)
@require_GET
def protocol_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(
        TmsProtocol.objects.filter(organization_id=request.user.organization_pk)
        .select_related("signed_by")
        .order_by("code", "-version")
    )
    newest_signed: dict[str, int] = {}
    for row in rows:
        if row.is_signed:
            newest_signed.setdefault(row.code, row.version)
    have = {row.code for row in rows}
    return render(
        request,
        "tms/protocols.html",
        {
            "rows": [
                {
                    "version": row,
                    "status": (
                        "draft"
                        if not row.is_signed
                        else "active"
                        if newest_signed[row.code] == row.version
                        else "superseded"
                    ),
                }
                for row in rows
            ],
            "defaults": [
                p for code, p in protocols.DEFAULT_PROTOCOLS.items() if code not in have
            ],
            "can_manage": request.user.can(Capability.MANAGE_PROTOCOLS),
        },
    )


@require_capability(Capability.MANAGE_PROTOCOLS)
@require_POST
def protocol_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Draft a cited default (`code`) or the next version of a signed one (`base`)."""
    assert request.user.organization is not None
    base = None
    if request.POST.get("base"):
        try:
            base = _version(request, uuid.UUID(request.POST["base"]))
        except ValueError:
            raise Http404("No such protocol.") from None
    try:
        draft = protocol_actions.draft_protocol(
            request.user.organization,
            code=request.POST.get("code") or None,
            base=base,
            by=request.user,
        )
    except TmsError as exc:
        messages.error(request, exc.message)
        return redirect("tms:protocols")
    messages.success(request, f"{draft} drafted: review it, then sign.")
    return redirect("tms:protocol", version_uuid=draft.uuid)


@require_capability(Capability.VIEW_TMS)
@require_http_methods(["GET", "POST"])
def protocol_page(
    request: AuthenticatedHttpRequest, version_uuid: uuid.UUID
) -> HttpResponse:
    version = _version(request, version_uuid)
    can_manage = request.user.can(Capability.MANAGE_PROTOCOLS)
    parameters = protocols.from_snapshot(version.parameters)
    edit_form = f.ProtocolForm(
        initial=f.ProtocolForm.initial_for(parameters)
        | {"change_note": version.change_note},
        prefix="edit",
    )
    sign_form = f.ProtocolSignForm(prefix="sign")
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if "sign-password" in request.POST:
            sign_form = f.ProtocolSignForm(request.POST, prefix="sign")
            if sign_form.is_valid():
                try:
                    protocol_actions.sign_protocol(
                        version,
                        password=sign_form.cleaned_data["password"],
                        by=request.user,
                    )
                except TmsError as exc:
                    f.add_errors(sign_form, exc)
                else:
                    messages.success(
                        request, f"{version} signed: the clinic orders under it now."
                    )
                    return redirect("tms:protocol", version_uuid=version.uuid)
        else:
            edit_form = f.ProtocolForm(request.POST, prefix="edit")
            if edit_form.is_valid():
                try:
                    protocol_actions.change_draft(
                        version,
                        changes=edit_form.changes(),
                        change_note=edit_form.cleaned_data["change_note"],
                        by=request.user,
                    )
                except TmsError as exc:
                    _put_errors(edit_form, exc)
                else:
                    messages.success(request, "Draft saved: sign it to use it.")
                    return redirect("tms:protocol", version_uuid=version.uuid)
        status = 422
    return render(
        request,
        "tms/protocol.html",
        {
            "version": version,
            "parameters": parameters,
            "status": protocol_actions.status(version),
            "can_manage": can_manage,
            "edit_form": edit_form,
            "sign_form": sign_form,
            "versions": TmsProtocol.objects.filter(family=version.family)
            .select_related("signed_by")
            .order_by("-version"),
        },
        status=status,
    )
