"""The waitlist: the front desk's list (add, withdraw) and the patient's offer page (by its
signed link, no sign-in: accept or say no)."""

import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients.access import get_patient_for_user
from neuroclinic.scheduling.access import get_waitlist_offer_for_user
from neuroclinic.scheduling.actions import waitlist
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
)


class JoinForm(forms.Form):
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.none(), label="Visit type"
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Any location",
    )
    appointment = forms.ModelChoiceField(
        queryset=Appointment.objects.none(),
        to_field_name="uuid",
        required=False,
        label="Visit to bring forward",
        empty_label="None: a new visit",
    )
    note = forms.CharField(max_length=300, required=False, label="Note (optional)")

    def __init__(
        self, *args: object, patient_id: int, organization_id: int, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        fields = self.fields
        assert isinstance(fields["appointment_type"], forms.ModelChoiceField)
        assert isinstance(fields["location"], forms.ModelChoiceField)
        assert isinstance(fields["appointment"], forms.ModelChoiceField)
        fields["appointment_type"].queryset = AppointmentType.objects.filter(
            organization_id=organization_id, is_active=True
        )
        fields["location"].queryset = Location.objects.filter(
            organization_id=organization_id, is_active=True
        )
        fields["appointment"].queryset = Appointment.objects.filter(
            patient_id=patient_id,
            status__in=Appointment.HOLDING,
            starts_at__gt=timezone.now(),
        ).order_by("starts_at")


@never_cache
@require_capability(Capability.BOOK_APPOINTMENTS)
def waitlist_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    entries = list(
        WaitlistEntry.objects.filter(
            organization_id=request.user.organization_pk,
            status__in=(WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED),
        )
        .select_related("patient", "appointment_type", "location", "appointment")
        .order_by("created_at", "id")
    )
    # The open offer of each offered entry, for the accept and decline buttons.
    open_offers = {
        o.entry_id: o
        for o in WaitlistOffer.objects.filter(
            entry__in=[e for e in entries if e.status == WaitlistEntry.Status.OFFERED],
            status=WaitlistOffer.Status.OPEN,
        ).select_related("location")
    }
    for e in entries:
        found = open_offers.get(e.pk)
        e.open_offer = found  # type: ignore[attr-defined]
        e.open_offer_at = (  # type: ignore[attr-defined]
            found.starts_at.astimezone(ZoneInfo(found.location.time_zone))
            if found
            else None
        )
    record(
        AuditEvent.Action.CALENDAR_VIEWED,
        actor=request.user,
        via="waitlist",
        patients=sorted({str(e.patient.uuid) for e in entries}),
    )
    return render(request, "scheduling/waitlist.html", {"entries": entries})


@never_cache
@require_http_methods(["GET", "POST"])
@require_capability(Capability.BOOK_APPOINTMENTS)
def join(request: AuthenticatedHttpRequest, patient_uuid: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(
        request.user, patient_uuid, capability=Capability.BOOK_APPOINTMENTS
    )
    form = JoinForm(
        request.POST or None,
        patient_id=patient.pk,
        organization_id=patient.organization_id,
    )
    if request.method == "POST" and form.is_valid():
        try:
            waitlist.join_waitlist(
                patient,
                appointment_type=form.cleaned_data["appointment_type"],
                location=form.cleaned_data["location"],
                appointment=form.cleaned_data["appointment"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except SchedulingError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"{patient.display_name} is on the waitlist.")
            return redirect("scheduling:waitlist")
    return render(
        request, "scheduling/waitlist_join.html", {"patient": patient, "form": form}
    )


@require_POST
@require_capability(Capability.BOOK_APPOINTMENTS)
def withdraw(request: AuthenticatedHttpRequest, entry_uuid: uuid.UUID) -> HttpResponse:
    entry = get_object_or_404(
        WaitlistEntry, uuid=entry_uuid, organization_id=request.user.organization_pk
    )
    try:
        waitlist.withdraw(entry, by=request.user)
    except SchedulingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Taken off the waitlist.")
    return redirect("scheduling:waitlist")


@require_POST
@require_capability(Capability.BOOK_APPOINTMENTS)
def answer_offer(
    request: AuthenticatedHttpRequest, offer_uuid: uuid.UUID
) -> HttpResponse:
    """Accept or decline an offer on the patient's behalf (on the phone), in the staff
    member's name: the same service functions as the API and the patient's link."""
    found = get_waitlist_offer_for_user(
        request.user, offer_uuid, capability=Capability.BOOK_APPOINTMENTS
    )
    choice = request.POST.get("choice", "")
    try:
        if choice == "accept":
            waitlist.accept_offer(found, by=request.user)
            messages.success(
                request, f"Booked for {found.entry.patient.display_name} at that time."
            )
        elif choice == "decline":
            waitlist.decline_offer(found, by=request.user)
            messages.success(
                request,
                f"Declined for {found.entry.patient.display_name}; they keep their place.",
            )
        else:
            messages.error(request, "Choose to accept the offer or to decline it.")
    except SchedulingError as exc:
        messages.error(request, exc.message)
    return redirect("scheduling:waitlist")


@never_cache
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    found = waitlist.offer_from_token(token)
    if found is None:
        return render(
            request,
            "portal/link_refused.html",
            {
                "message": "This link has expired or is not valid. Please call the clinic."
            },
            status=404,
        )
    notice = ""
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        try:
            if choice == "accept":
                waitlist.accept_offer(found)
                notice = "It is yours: the visit is booked at this time."
            elif choice == "decline":
                waitlist.decline_offer(found)
                notice = "Thank you: you keep your place on the waitlist."
            else:
                notice = "Choose to accept the time or to say no."
        except SchedulingError as exc:
            notice = exc.message
        found.refresh_from_db()
    else:
        record(
            AuditEvent.Action.CALENDAR_VIEWED,
            actor=None,
            patient=found.entry.patient,
            subject=found,
            via="waitlist_offer",
        )
    zone = ZoneInfo(found.location.time_zone)
    return render(
        request,
        "scheduling/offer.html",
        {
            "organization": found.location.organization,
            "offer": found,
            "when": found.starts_at.astimezone(zone),
            "ends": found.expires_at.astimezone(zone),
            "open": found.status == found.Status.OPEN
            and found.expires_at > timezone.now(),
            "notice": notice,
        },
    )
