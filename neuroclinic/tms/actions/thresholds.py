"""Motor threshold determinations (Source: T5, T8, T8b, T8c (docs/sources.md))."""

from datetime import date, datetime

from django.db import transaction

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Device
from neuroclinic.patients.models import Patient
from neuroclinic.tms import intensity
from neuroclinic.tms.actions.common import now_or, require_physician
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import MotorThreshold


@transaction.atomic
def record_threshold(
    patient: Patient,
    *,
    value_percent_output: int,
    observation: str,
    procedure: str,
    coil: str,
    supervising_physician: User | None,
    determined_on: date | None = None,
    reason: str = MotorThreshold.Reason.INITIAL,
    device: Device | None = None,
    now: datetime | None = None,
    by: User,
) -> MotorThreshold:
    errors: dict[str, list[str]] = {}
    try:
        intensity.check_threshold(value_percent_output)
    except intensity.IntensityError as exc:
        errors[exc.field] = [exc.message]
    if observation not in MotorThreshold.Observation.values:
        errors["observation"] = ["Choose visual or EMG."]
    if procedure not in MotorThreshold.Procedure.values:
        errors["procedure"] = ["Choose relative frequency or adaptive."]
    if reason not in MotorThreshold.Reason.values:
        errors["reason"] = ["Choose why the threshold was determined."]
    if not coil.strip():
        errors["coil"] = ["Name the coil."]
    if device is not None and (
        device.kind != Device.Kind.TMS_UNIT
        or device.location.organization_id != patient.organization_id
    ):
        errors["device"] = ["Choose one of this clinic's TMS units."]
    elif device is not None and value_percent_output > device.max_output_percent:
        errors.setdefault("value_percent_output", []).append(
            f"{device.name} is limited to {device.max_output_percent} % output: a "
            f"threshold of {value_percent_output} % cannot have been found on it."
        )
    if errors:
        raise TmsError(next(iter(errors.values()))[0], errors=errors)
    physician = require_physician(
        supervising_physician, patient.organization_id, field="supervising_physician"
    )
    at = now_or(now)
    threshold = MotorThreshold.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        determined_on=determined_on or at.date(),
        observation=observation,
        procedure=procedure,
        value_percent_output=value_percent_output,
        device=device,
        coil=coil.strip()[:100],
        reason=reason,
        operator=by,
        supervising_physician=physician,
        recorded_at=at,
    )
    record(
        AuditEvent.Action.TMS_THRESHOLD_RECORDED,
        actor=by,
        patient=patient,
        subject=threshold,
        value_percent_output=value_percent_output,
        observation=observation,
    )
    return threshold
