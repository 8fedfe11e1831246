"""Demo calendar: this week and next at both demo locations. All synthetic.

Staff shifts on weekdays (the nurse and prescriber at the annex, where the
infusion demo runs; the TMS technician at the main site); the default
appointment types; the remaining induction infusions of each patient mid-series
(but one eligible, consented patient whose series has not begun is left for the
front desk to book),
a booster where one is ordered, consults and follow-ups, TMS sessions, one
cancellation and one no-show. Every booking goes through the actions, so the
rules hold in the demo as they do in use; a booking the rules refuse is skipped.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from neuroclinic.clinics.demo import DemoContext
from neuroclinic.clinics.models import Location
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.actions import appointments, setup
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.treatment.actions.orders import active_order
from neuroclinic.treatment.actions.plans import intake_blocks
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

WEEKS = 2


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
    # With more than one series to book, one eligible, consented patient whose series has
    # not begun is left for the front desk to book (the calendar's browser journey).
    to_book = [
        p
        for p in plans
        if p.induction_completed_at is None
        and active_order(p, InfusionOrder.Kind.INDUCTION)
    ]
    ready_left = len(to_book) < 2
    for plan in plans:
        done = len(plan.induction_dates)
        if plan.induction_completed_at is None and active_order(
            plan, InfusionOrder.Kind.INDUCTION
        ):
            if not ready_left and done == 0 and not intake_blocks(plan.patient):
                ready_left = True
                continue
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
            _book(
                plan.patient,
                types["booster"],
                annex,
                _at(annex, future[3], hour),
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
