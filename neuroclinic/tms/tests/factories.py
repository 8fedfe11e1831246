"""Builders for TMS tests: a cleared screen, a threshold, a course, a session."""

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import Group

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Device, Location
from neuroclinic.patients.models import Patient
from neuroclinic.tms import screening
from neuroclinic.tms.actions import courses, sessions, thresholds
from neuroclinic.tms.actions import protocols as protocol_actions
from neuroclinic.tms.actions import screening as screening_actions
from neuroclinic.tms.models import MotorThreshold, SafetyScreen, TmsCourse, TmsSession

NO_FINDINGS: dict[str, object] = {item.key: False for item in screening.SCREEN_ITEMS}
DAILY_OK: dict[str, object] = {
    "metal_removed": True,
    "ear_protection": True,
    "alcohol_or_drugs": False,
    "medication_change": False,
    "poor_sleep": False,
}


def make_location(organization_id: int) -> Location:
    return Location.objects.create(
        organization_id=organization_id,
        name="Lakeside TMS",
        address_line1="100 Example Avenue",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="America/Chicago",
    )


def clear_screen(patient: Patient, by: User) -> SafetyScreen:
    return screening_actions.record_screen(patient, answers=NO_FINDINGS, by=by)


def threshold(
    patient: Patient,
    by: User,
    physician: User,
    value: int = 55,
    now: datetime | None = None,
    device: Device | None = None,
) -> MotorThreshold:
    return thresholds.record_threshold(
        patient,
        value_percent_output=value,
        observation=MotorThreshold.Observation.EMG,
        procedure=MotorThreshold.Procedure.RELATIVE_FREQUENCY,
        coil="Figure-8 (demo)",
        supervising_physician=physician,
        device=device,
        now=now,
        by=by,
    )


def tms_unit(location: Location, *, max_output_percent: int = 100) -> Device:
    return Device.objects.create(
        location=location,
        kind=Device.Kind.TMS_UNIT,
        name="TMS unit 1",
        max_output_percent=max_output_percent,
    )


SIGNER_PASSWORD = "tms-protocol-signer"


def protocol_signer(organization_id: int) -> User:
    """The clinic's medical director who signs the TMS protocols in tests."""
    signer = User.objects.filter(
        organization_id=organization_id, username=f"tms-director-{organization_id}"
    ).first()
    if signer is None:
        signer = User(
            username=f"tms-director-{organization_id}",
            first_name="Morgan",
            last_name="Director",
            organization_id=organization_id,
        )
        signer.set_password(SIGNER_PASSWORD)
        signer.save()
        signer.groups.set([Group.objects.get(name=Role.MEDICAL_DIRECTOR.value)])
    return signer


def signed_protocols(organization_id: int) -> None:
    """The cited defaults, drafted and signed, as a clinic has before its first order."""
    signer = protocol_signer(organization_id)
    assert signer.organization is not None
    protocol_actions.install_default_protocols(
        signer.organization, password=SIGNER_PASSWORD, by=signer
    )


def offered_version(organization_id: int, code: str = "rtms-10hz") -> str:
    """What the order page's protocol choice posts: the newest signed version's id."""
    version = protocol_actions.latest_signed(organization_id, code)
    assert version is not None
    return str(version.uuid)


def course(
    patient: Patient,
    prescriber: User,
    *,
    protocol_code: str = "rtms-10hz",
    acute_sessions: int = 30,
    taper: bool = True,
    percent_of_mt: Decimal | None = None,
    location: Location | None = None,
) -> TmsCourse:
    signed_protocols(patient.organization_id)
    return courses.order_course(
        patient,
        protocol_code=protocol_code,
        target=TmsCourse.Target.BEAM_F3,
        acute_sessions=acute_sessions,
        taper=taper,
        start_date=date(2026, 1, 5),
        percent_of_mt=percent_of_mt,
        location=location or equipped_location(patient.organization_id),
        by=prescriber,
    )


def equipped_location(organization_id: int) -> Location:
    """A location with one TMS unit, which a session runs on when none is chosen."""
    location = make_location(organization_id)
    tms_unit(location)
    return location


def start(
    tms_course: TmsCourse, tech: User, physician: User, now: datetime | None = None
) -> TmsSession:
    return sessions.start_session(
        tms_course,
        daily_check=DAILY_OK,
        supervising_physician=physician,
        now=now,
        by=tech,
    )
