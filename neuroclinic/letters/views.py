"""Letter pages: a patient's letters, one letter (edit, sign, send), its PDF. Every opening audited."""

from typing import Any
from uuid import UUID

from django import forms
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.intake.models import EligibilityDecision
from neuroclinic.letters import pdf
from neuroclinic.letters.access import clearance_decision
from neuroclinic.letters.actions import letters
from neuroclinic.letters.chart import letter_chart
from neuroclinic.letters.errors import LettersError
from neuroclinic.letters.fields import FIELDS
from neuroclinic.letters.forms import (
    AddendumForm,
    DraftForm,
    EditForm,
    Part2ConsentForm,
    SendForm,
    SignForm,
    TemplateForm,
)
from neuroclinic.letters.models import Letter, LetterTemplate, Part2Consent
from neuroclinic.lib.safe_markdown import render_markdown
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.patients.models import Patient


def _letter(user: User, letter_uuid: UUID) -> Letter:
    try:
        letter = Letter.objects.select_related("patient", "recipient", "template").get(
            uuid=letter_uuid, organization_id=user.organization_pk
        )
    except Letter.DoesNotExist:
        raise Http404("No such letter.") from None
    get_patient_for_user(user, letter.patient.uuid, capability=Capability.WRITE_LETTERS)
    return letter


def _viewed(user: User, patient: Patient, subject: Any, what: str) -> None:
    with transaction.atomic():
        record(
            AuditEvent.Action.LETTER_VIEWED,
            actor=user,
            patient=patient,
            subject=subject,
            what=what,
        )


def _add(form: forms.Form, exc: LettersError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_capability(Capability.WRITE_LETTERS)
def patient_letters(
    request: AuthenticatedHttpRequest, patient_uuid: UUID
) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.WRITE_LETTERS
    )
    form = DraftForm(request.POST or None, patient_id=patient.pk)
    if request.method == "POST":
        if form.is_valid():
            try:
                letter = letters.draft_letter(
                    patient, by=request.user, **form.cleaned_data
                )
                return redirect("letters:letter", letter_uuid=letter.uuid)
            except LettersError as exc:
                _add(form, exc)
    else:
        _viewed(request.user, patient, patient, "list")
    return render(
        request,
        "letters/patient_letters.html",
        {
            "patient": patient,
            "letters": Letter.objects.filter(patient=patient)
            .select_related("template", "recipient")
            .prefetch_related("sends"),
            "form": form,
            # Clearance requests made as PDFs in intake before they were letters.
            "legacy_clearances": EligibilityDecision.objects.filter(
                patient=patient,
                outcome=EligibilityDecision.Outcome.NEEDS_CLEARANCE,
            )
            .exclude(clearance_letter="")
            .select_related("decided_by"),
            "part2_consents": Part2Consent.objects.filter(patient=patient)
            .select_related("recipient", "recorded_by")
            .order_by("-recorded_at", "-id"),
        },
        status=422 if form.errors else 200,
    )


@require_capability(Capability.WRITE_LETTERS)
def part2_consent(
    request: AuthenticatedHttpRequest, patient_uuid: UUID
) -> HttpResponse:
    """Record the patient's 42 CFR Part 2 consent naming one recipient (2.31)."""
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.WRITE_LETTERS
    )
    form = Part2ConsentForm(request.POST or None, patient_id=patient.pk)
    if request.method == "POST" and form.is_valid():
        try:
            letters.record_part2_consent(patient, by=request.user, **form.cleaned_data)
            return redirect("letters:patient_letters", patient_uuid=patient.uuid)
        except LettersError as exc:
            _add(form, exc)
    return render(
        request,
        "letters/part2_consent.html",
        {"patient": patient, "form": form},
        status=422 if form.errors else 200,
    )


def _page(
    request: AuthenticatedHttpRequest,
    letter: Letter,
    status: int = 200,
    **forms_: forms.Form,
) -> HttpResponse:
    return render(
        request,
        "letters/letter.html",
        {
            "letter": letter,
            "body": render_markdown(letter.body),
            "chart": letter_chart(letter),
            "sends": letter.sends.all(),
            "addenda": [
                (a, render_markdown(a.body))
                for a in letter.addenda.select_related("signed_by")
            ],
            "addendum_form": forms_.get("addendum_form") or AddendumForm(),
            "edit_form": forms_.get("edit_form")
            or EditForm(initial={"body": letter.body}),
            "sign_form": forms_.get("sign_form") or SignForm(),
            "send_form": forms_.get("send_form") or SendForm(),
        },
        status=status,
    )


@require_capability(Capability.WRITE_LETTERS)
@require_http_methods(["GET", "POST"])
def clearance_request(
    request: AuthenticatedHttpRequest, decision_uuid: UUID
) -> HttpResponse:
    """Where the eligibility page sends a decision that needs clearance: its letter, drafted
    here once (POST) and then edited, signed and sent like every letter."""
    decision = clearance_decision(request.user, decision_uuid)
    existing = letters.clearance_letter_for(decision)
    if existing is not None:
        return redirect("letters:letter", letter_uuid=existing.uuid)
    error = ""
    if request.method == "POST":
        try:
            letter = letters.request_clearance(decision, by=request.user)
            return redirect("letters:letter", letter_uuid=letter.uuid)
        except LettersError as exc:
            error = exc.message
    else:
        _viewed(request.user, decision.patient, decision, "clearance")
    return render(
        request,
        "letters/clearance.html",
        {
            "patient": decision.patient,
            "decision": decision,
            "error": error,
            "on_care_team": decision.patient.care_team.filter(
                name__iexact=decision.clearance_provider_name.strip()
            ).exists(),
        },
        status=422 if error else 200,
    )


@require_capability(Capability.WRITE_LETTERS)
@require_GET
def letter_page(request: AuthenticatedHttpRequest, letter_uuid: UUID) -> HttpResponse:
    letter = _letter(request.user, letter_uuid)
    _viewed(request.user, letter.patient, letter, "letter")
    return _page(request, letter)


@require_capability(Capability.WRITE_LETTERS)
@require_POST
def edit(request: AuthenticatedHttpRequest, letter_uuid: UUID) -> HttpResponse:
    letter = _letter(request.user, letter_uuid)
    form = EditForm(request.POST)
    if form.is_valid():
        try:
            letters.edit_draft(letter, body=form.cleaned_data["body"], by=request.user)
            return redirect("letters:letter", letter_uuid=letter.uuid)
        except LettersError as exc:
            _add(form, exc)
    return _page(request, letter, 422, edit_form=form)


@require_capability(Capability.WRITE_LETTERS)
@require_POST
def sign(request: AuthenticatedHttpRequest, letter_uuid: UUID) -> HttpResponse:
    letter = _letter(request.user, letter_uuid)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            letters.sign_letter(
                letter, password=form.cleaned_data["password"], by=request.user
            )
            return redirect("letters:letter", letter_uuid=letter.uuid)
        except LettersError as exc:
            _add(form, exc)
    return _page(request, letter, 422, sign_form=form)


@require_capability(Capability.WRITE_LETTERS)
@require_POST
def send(request: AuthenticatedHttpRequest, letter_uuid: UUID) -> HttpResponse:
    letter = _letter(request.user, letter_uuid)
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            letters.record_send(
                letter, channel=form.cleaned_data["channel"], by=request.user
            )
            return redirect("letters:letter", letter_uuid=letter.uuid)
        except LettersError as exc:
            _add(form, exc)
    return _page(request, letter, 422, send_form=form)


@require_capability(Capability.WRITE_LETTERS)
@require_GET
def letter_pdf(request: AuthenticatedHttpRequest, letter_uuid: UUID) -> HttpResponse:
    letter = _letter(request.user, letter_uuid)
    _viewed(request.user, letter.patient, letter, "pdf")
    response = HttpResponse(pdf.letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="letter.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_capability(Capability.WRITE_LETTERS)
@require_POST
def addendum(request: AuthenticatedHttpRequest, letter_uuid: UUID) -> HttpResponse:
    letter = _letter(request.user, letter_uuid)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            letters.add_addendum(letter, by=request.user, **form.cleaned_data)
            return redirect("letters:letter", letter_uuid=letter.uuid)
        except LettersError as exc:
            _add(form, exc)
    return _page(request, letter, 422, addendum_form=form)


@require_capability(Capability.WRITE_LETTERS)
def template_editor(request: AuthenticatedHttpRequest, kind: str) -> HttpResponse:
    """The clinic's template of one kind: edit (a new version) and see the earlier versions."""
    if kind not in LetterTemplate.Kind.values:
        raise Http404("No such kind of letter.")
    organization = request.user.organization
    assert organization is not None
    versions = LetterTemplate.objects.filter(
        organization=organization, kind=kind
    ).select_related("created_by")
    latest = versions.first()
    body = latest.body if latest else letters.DEFAULT_BODIES[kind]
    form = TemplateForm(request.POST or None, initial={"body": body})
    if request.method == "POST" and form.is_valid():
        try:
            letters.save_template(
                organization, kind=kind, body=form.cleaned_data["body"], by=request.user
            )
            return redirect("letters:template", kind=kind)
        except LettersError as exc:
            _add(form, exc)
    return render(
        request,
        "letters/template.html",
        {
            "kind": LetterTemplate.Kind(kind),
            "kinds": LetterTemplate.Kind.choices,
            "form": form,
            "versions": versions,
            "fields": FIELDS,
        },
        status=422 if form.errors else 200,
    )


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient's signed, expiring link: the signed letter's PDF, no sign-in (audited)."""
    try:
        send = letters.open_link(token)
    except LettersError as exc:
        return render(
            request, "letters/link_invalid.html", {"message": exc.message}, status=410
        )
    response = HttpResponse(pdf.letter_pdf(send.letter), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="letter.pdf"'
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
