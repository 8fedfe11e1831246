"""Demo TMS data: a completed 10 Hz course with taper, an iTBS course in week 3 (one session
ended early for discomfort), and a completed accelerated course, with weekly PHQ-9 scores.

All synthetic, built through the TMS and measures actions with past times; the patients
are demo patients who have no questionnaires or infusions yet.
"""

import random
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.clinics.demo import DEMO_PASSWORD, DemoContext
from neuroclinic.clinics.models import Location
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.demo import answers_for
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Patient
from neuroclinic.tms import reads, screening
from neuroclinic.tms.actions import courses, sessions, thresholds
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.models import MotorThreshold, TmsCourse

NO = {item.key: False for item in screening.SCREEN_ITEMS}
DAILY_OK: dict[str, object] = {
    "metal_removed": True,
    "ear_protection": True,
    "alcohol_or_drugs": False,
    "medication_change": False,
    "poor_sleep": False,
}


@dataclass(frozen=True)
class Plan:
    protocol: str
    acute: int
    taper: bool
    weeks_ago: int  # course start, in weeks before today
    deliver: int | None  # sessions to run; None: all
    threshold: int
    phq9: tuple[int, ...]  # weekly totals, the first at baseline


PLANS = (
    Plan("rtms-10hz", 30, True, 12, None, 58, (20, 18, 15, 12, 10, 8, 7, 6, 6)),
    Plan("itbs-600", 30, False, 2, 12, 52, (19, 17, 14)),
    Plan("itbs-accelerated", 50, False, 4, None, 61, (22, 12, 9, 8)),
)


def _monday(weeks_ago: int) -> date:
    today = timezone.localdate()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks_ago)


def _run(
    course: TmsCourse, plan: Plan, zone: zoneinfo.ZoneInfo, tech: User, md: User
) -> None:
    planned = reads.sessions_to_book(course)
    count = len(planned) if plan.deliver is None else plan.deliver
    now = timezone.now()
    # The history ends yesterday: today's session is the technician's to run, whatever
    # the hour the demo is loaded at.
    today = now.astimezone(zone).date()
    for item in planned[:count]:
        start = datetime.combine(item.on, time(8, 30), zone) + timedelta(
            minutes=item.earliest_offset_minutes + 5 * (item.slot_in_day - 1)
        )
        if start >= now or item.on >= today:
            break
        session = sessions.start_session(
            course, daily_check=DAILY_OK, supervising_physician=md, now=start, by=tech
        )
        end = start + timedelta(
            minutes=40 if course.protocol_code == "rtms-10hz" else 10
        )
        if item.number == 1:
            sessions.record_side_effect(
                session, kind="scalp_pain", severity="mild", now=start, by=tech
            )
        if plan.deliver is not None and item.number == 4:
            sessions.record_side_effect(
                session, kind="scalp_pain", severity="moderate", now=start, by=tech
            )
            sessions.end_session(
                session,
                pulses_delivered=300,
                interruption_reason="discomfort",
                interruption_detail="Asked to stop half way (demo).",
                note="Ended early for scalp discomfort; ramp-up discussed.",
                now=start + timedelta(minutes=2),
                by=tech,
            )
            continue
        sessions.end_session(
            session, pulses_delivered=session.pulses_planned, now=end, by=tech
        )


def load(context: DemoContext) -> None:
    tech, md = context.staff["tms"], context.staff["director"]
    rng = context.rng
    # The clinic's protocols, signed by the medical director before the first course.
    protocol_actions.install_default_protocols(
        context.organization,
        password=DEMO_PASSWORD,
        now=timezone.now() - timedelta(weeks=20),
        by=md,
    )
    taken = {p.pk for p in context.patients[:6]}
    candidates = [
        p
        for p in context.patients
        if p.pk not in taken
        and not QuestionnaireResponse.objects.filter(patient=p).exists()
        and not p.infusion_sessions.exists()
    ]
    location = Location.objects.filter(organization=context.organization).first()
    if location is None or len(candidates) < len(PLANS):
        return
    zone = zoneinfo.ZoneInfo(location.time_zone)
    for patient, plan in zip(candidates[-len(PLANS) :], PLANS, strict=True):
        _course(patient, plan, location, zone, tech, md, rng)


def _course(
    patient: Patient,
    plan: Plan,
    location: Location,
    zone: zoneinfo.ZoneInfo,
    tech: User,
    md: User,
    rng: random.Random,
) -> None:
    start_day = _monday(plan.weeks_ago)
    before = datetime.combine(start_day - timedelta(days=7), time(10), zone)
    screening_actions.record_screen(patient, answers=NO, now=before, by=tech)
    thresholds.record_threshold(
        patient,
        value_percent_output=plan.threshold,
        observation=MotorThreshold.Observation.EMG,
        procedure=MotorThreshold.Procedure.RELATIVE_FREQUENCY,
        coil="Figure-8 coil (demo)",
        # Found on the location's unit, which the sessions then run on.
        device=reads.default_unit_at(location),
        supervising_physician=md,
        determined_on=start_day,
        now=datetime.combine(start_day, time(8), zone),
        by=tech,
    )
    course = courses.order_course(
        patient,
        protocol_code=plan.protocol,
        target=TmsCourse.Target.BEAM_F3,
        acute_sessions=plan.acute,
        taper=plan.taper,
        percent_of_mt=None,
        start_date=start_day,
        location=location,
        now=before + timedelta(hours=2),
        by=md,
    )
    for week, total in enumerate(plan.phq9):
        taken_at = before + timedelta(days=7 * week + 6, hours=1)
        if taken_at >= timezone.now():
            break
        record_response(
            patient,
            instrument_code="phq9",
            answers=answers_for("phq9", total, rng),
            source=QuestionnaireResponse.Source.PORTAL,
            by=None,
            completed_at=taken_at,
        )
    _run(course, plan, zone, tech, md)
