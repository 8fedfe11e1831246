"""Demo calendar: this week and next at both demo locations. All synthetic.

Staff shifts on weekdays (the nurse and prescriber at the annex, where the
infusion demo runs; the TMS technician at the main site); the default
appointment types; the remaining induction infusions of each patient mid-series;
a booster where one is ordered, on the first demo day inside the booster protocol's
interval after the last infusion (none when no demo day is); consults and follow-ups,
TMS sessions, one cancellation and one no-show; and one more eligible, consented patient (Robin
Seriesdemo) with a signed induction order and nothing booked, for the front desk to
book a series. Every booking goes through the actions, so the
rules hold in the demo as they do in use; a booking the rules refuse is skipped.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.clinics.demo import DEMO_PASSWORD, DemoContext
from neuroclinic.clinics.models import Location
from neuroclinic.intake.actions import consents, eligibility_decisions
from neuroclinic.intake.demo import signature_png
from neuroclinic.intake.errors import IntakeError
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.patients.actions import add_contact, register_patient
from neuroclinic.patients.models import Contact, Patient
from neuroclinic.scheduling import availability
from neuroclinic.scheduling.actions import appointments, setup
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.treatment.actions.orders import active_order, protocol_prn, sign_order
from neuroclinic.treatment.actions.plans import create_plan
from neuroclinic.treatment.actions.protocols import active_protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

WEEKS = 2
CONSENTS = ("ketamine", "privacy", "financial")


def _at(location: Location, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(
        day, time(hour, minute), tzinfo=ZoneInfo(location.time_zone)
    )


def _weekdays(first: date, weeks: int) -> list[date]:
    return [
        first + timedelta(days=n)
        for n in range(7 * weeks)
        if (first + timedelta(days=n)).weekday() < 5
    ]


def _book(
    patient: Patient,
    itype: AppointmentType,
    location: Location,
    starts_at: datetime,
    context: DemoContext,
    now: datetime,
) -> Appointment | None:
    try:
        return appointments.book_appointment(
            patient,
            appointment_type=itype,
            location=location,
            starts_at=starts_at,
            now=now,
            by=context.staff["frontdesk"],
        )
    except SchedulingError:
        return None


def _series_patient(context: DemoContext) -> Patient | None:
    """See `make_ready_patient`; nothing when the staff cannot sign with the demo password."""
    try:
        with transaction.atomic():
            return make_ready_patient(
                context,
                family_name="Seriesdemo",
                given_name="Robin",
                birth_date=date(1984, 5, 17),
                phone="555-0199",
            )
    except (IntakeError, TreatmentError):
        return None


def make_ready_patient(
    context: DemoContext,
    *,
    family_name: str,
    given_name: str,
    birth_date: date,
    phone: str,
) -> Patient | None:
    """An eligible, consented patient with a plan and a signed induction order and nothing
    booked: the front desk books this series (the calendar's browser journey), and the
    infusion tap count uses one when the demo's are taken. Synthetic, through the intake
    and treatment actions (the prescriber signs with the demo password)."""
    organization = context.organization
    prescriber = context.staff["prescriber"]
    induction = active_protocols(organization.pk, ProtocolKind.INDUCTION)
    booster = active_protocols(organization.pk, ProtocolKind.BOOSTER)
    current = {
        d.kind: d
        for d in ConsentDocument.objects.filter(organization=organization).order_by(
            "version"
        )
    }
    if not induction or not all(k in current for k in CONSENTS):
        return None
    patient = register_patient(
        organization,
        family_name=family_name,
        given_name=given_name,
        birth_date=birth_date,
        sex_at_birth=Patient.SexAtBirth.FEMALE,
        phone=phone,
        email=f"{given_name}.{family_name}@example.com".lower(),
        by=context.staff["frontdesk"],
    )
    add_contact(
        patient,
        kind=Contact.Kind.ESCORT,
        name=f"Sam {family_name}",
        relationship="Spouse",
        phone="555-0197",
        by=context.staff["frontdesk"],
    )
    eligibility_decisions.decide_eligibility(
        patient,
        by=prescriber,
        password=DEMO_PASSWORD,
        outcome=EligibilityDecision.Outcome.ELIGIBLE,
        reason="Demo patient: history taken at the consultation (synthetic).",
    )
    for n, kind in enumerate(CONSENTS):
        consents.sign_consent(
            patient,
            current[kind],
            typed_name=patient.legal_name,
            signature_png=signature_png(90 + n),
            ip_address="127.0.0.1",
            channel=ConsentSignature.Channel.PORTAL,
        )
    protocol = induction[0]
    plan = create_plan(
        patient,
        induction_protocol=protocol,
        booster_protocol=booster[0] if booster else None,
        indication="Treatment-resistant depression (demo)",
        by=prescriber,
    )
    sign_order(
        plan,
        password=DEMO_PASSWORD,
        kind=ProtocolKind.INDUCTION,
        dose_mg_per_kg=protocol.dose_mg_per_kg,
        duration_minutes=protocol.duration_minutes,
        dosing_weight_rule=protocol.dosing_weight_rule,
        max_dose_mg_per_kg=protocol.max_dose_mg_per_kg,
        max_dose_mg=protocol.max_dose_mg,
        diluent_volume_ml=protocol.diluent_volume_ml,
        rate_min_percent=protocol.rate_min_percent,
        rate_max_percent=protocol.rate_max_percent,
        titration_instructions="",
        prn=protocol_prn(protocol),
        by=prescriber,
    )
    return patient


def load(context: DemoContext) -> None:
    organization = context.organization
    admin = context.staff["admin"]
    setup.install_default_types(organization, by=admin)
    types = {
        t.code: t for t in AppointmentType.objects.filter(organization=organization)
    }
    locations = list(
        Location.objects.filter(organization=organization, is_active=True).order_by(
            "name"
        )
    )
    if not locations:
        return
    main, annex = locations[0], locations[-1]
    now = timezone.now()
    today = now.astimezone(ZoneInfo(annex.time_zone)).date()
    monday = today - timedelta(days=today.weekday())
    days = _weekdays(monday, WEEKS + 1)
    for day in days:
        for username, location in (
            ("nurse", annex),
            ("prescriber", annex),
            ("tms", main),
            ("director", main),
        ):
            setup.add_shift(
                context.staff[username],
                location=location,
                starts_at=_at(location, day, 8),
                ends_at=_at(location, day, 17),
                by=admin,
            )
    # Book as of Monday morning, so this week's earlier days fill too.
    as_of = _at(annex, monday, 7)
    future = list(days)
    plans = list(
        TreatmentPlan.objects.filter(
            organization=organization, status=TreatmentPlan.Status.ACTIVE
        )
        .select_related("patient", "induction_protocol")
        .order_by("created_at", "id")
    )
    hour = 8
    for plan in plans:
        done = len(plan.induction_dates)
        if plan.induction_completed_at is None and active_order(
            plan, InfusionOrder.Kind.INDUCTION
        ):
            left = max(0, plan.induction_protocol.infusion_count - done)
            for day in future[::2][:left]:
                _book(
                    plan.patient,
                    types["infusion"],
                    annex,
                    _at(annex, day, hour),
                    context,
                    as_of,
                )
        elif active_order(plan, InfusionOrder.Kind.BOOSTER):
            # The first demo day inside the booster protocol's interval after the last
            # infusion (the booking rule refuses any other); none in these weeks: none.
            interval = availability.booster_window_for(
                plan.patient_id, location=annex, now=as_of
            )
            booster_day = next(
                (
                    d
                    for d in future
                    if interval is None or interval.earliest <= d <= interval.latest
                ),
                None,
            )
            if booster_day is not None:
                _book(
                    plan.patient,
                    types["booster"],
                    annex,
                    _at(annex, booster_day, hour),
                    context,
                    as_of,
                )
        else:
            _book(
                plan.patient,
                types["follow_up"],
                annex,
                _at(annex, future[1], 13 + hour % 3),
                context,
                as_of,
            )
        hour = 8 if hour >= 14 else hour + 2
    with_plans = {p.patient_id for p in plans}
    others = [p for p in context.patients if p.pk not in with_plans][:12]
    for n, patient in enumerate(others[:6]):
        _book(
            patient,
            types["consult"],
            annex,
            _at(annex, future[n % len(future)], 14, 30),
            context,
            as_of,
        )
    for n, patient in enumerate(others[6:12]):
        day = future[n % 5]
        _book(
            patient, types["tms_session"], main, _at(main, day, 9 + n), context, as_of
        )
    made = list(
        Appointment.objects.filter(
            organization=organization, status=Appointment.Status.BOOKED
        ).order_by("starts_at")
    )
    later = [a for a in made if a.starts_at > now]
    earlier = [
        a for a in made if a.starts_at <= now and not a.appointment_type.is_infusion
    ]
    if later:
        appointments.cancel_appointment(
            later[-1],
            reason="Patient travelling (demo)",
            now=as_of,
            by=context.staff["frontdesk"],
        )
    if earlier:
        appointments.mark_no_show(earlier[0], now=now, by=context.staff["frontdesk"])
    elif len(later) > 1:
        appointments.confirm_appointment(later[0], now=as_of, by=None)
    _series_patient(context)
