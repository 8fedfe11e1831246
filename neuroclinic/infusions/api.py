"""The dose calculator and the monitor feed over the API.

`POST /api/infusions/dose-calculation` is the pure calculator (dosing.calculate_dose)
for any signed-in staff member; it stores nothing. `POST /api/infusions/sessions/{id}/vitals`
takes one reading, a list, or {"device": ..., "readings": [...]} from a monitor and hands
them to actions.monitoring.ingest_readings, the path the HL7 v2 listener shares.
"""

import json
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.api_errors import FieldErrors
from neuroclinic.infusions.access import lock_session_row_for_user
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import VitalReading
from neuroclinic.lib import dosing

router = Router(tags=["infusions"])

MAX_BODY_BYTES = 512 * 1024


class DoseCalculationIn(Schema):
    weight_kg: Decimal
    dose_mg_per_kg: Decimal
    concentration_mg_per_ml: Decimal
    diluent_volume_ml: Decimal
    duration_minutes: Decimal
    dosing_weight_rule: Literal["actual", "ideal", "adjusted"] = "actual"
    height_cm: Decimal | None = None
    sex: Literal["male", "female"] | None = None
    max_dose_mg: Decimal | None = None


class DoseCalculationOut(Schema):
    """Quantities are JSON numbers, computed in Decimal and rounded as docs/clinical/dosing.md says."""

    dosing_weight_kg: float
    dose_mg: float
    drug_volume_ml: float
    total_volume_ml: float
    final_concentration_mg_per_ml: float
    rate_ml_per_hour: float
    dose_rate_mg_per_min: float
    capped: bool
    warnings: list[str]


class ReadingIn(Schema):
    """One reading (for the documentation; the endpoint checks each reading itself so that
    a bad one in a batch does not turn away the good ones)."""

    device: str
    taken_at: str
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int
    respiratory_rate_per_min: int
    etco2_mmhg: int | None = None
    # Optional ECG rhythm: one of lib/vitals.ECG_RHYTHMS; "other" needs ecg_rhythm_other.
    ecg_rhythm: str | None = None
    ecg_rhythm_other: str | None = None


class RejectedOut(Schema):
    index: int
    errors: dict[str, list[str]]


class AlarmOut(Schema):
    code: str
    severity: str
    message: str
    action: str
    acknowledged: bool


class VitalsOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[RejectedOut]
    alarms: list[AlarmOut]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # auth= guarantees it
    return user


def _number(value: Decimal) -> float:
    return float(value)


@router.post(
    "/infusions/dose-calculation",
    response=DoseCalculationOut,
    summary="Calculate an IV ketamine dose, dilution and pump rate",
)
def dose_calculation(
    request: HttpRequest, payload: DoseCalculationIn
) -> dict[str, Any]:
    """Dosing weight (actual, ideal by Devine, or adjusted), dose, drug volume, bag volume,
    final concentration and pump rate, capped by `max_dose_mg` (and saying so). Refused
    input answers 422 naming the field. Any signed-in staff member; nothing is stored."""
    _user(request)
    try:
        result = dosing.calculate_dose(
            weight_kg=payload.weight_kg,
            dose_mg_per_kg=payload.dose_mg_per_kg,
            concentration_mg_per_ml=payload.concentration_mg_per_ml,
            diluent_volume_ml=payload.diluent_volume_ml,
            duration_minutes=payload.duration_minutes,
            dosing_weight_rule=payload.dosing_weight_rule,
            height_cm=payload.height_cm,
            sex=payload.sex,
            max_dose_mg=payload.max_dose_mg,
        )
    except dosing.DoseInputError as exc:
        raise FieldErrors({exc.field: [exc.message]}) from None
    return {
        "dosing_weight_kg": _number(result.dosing_weight_kg),
        "dose_mg": _number(result.dose_mg),
        "drug_volume_ml": _number(result.drug_volume_ml),
        "total_volume_ml": _number(result.total_volume_ml),
        "final_concentration_mg_per_ml": _number(result.final_concentration_mg_per_ml),
        "rate_ml_per_hour": _number(result.rate_ml_per_hour),
        "dose_rate_mg_per_min": _number(result.dose_rate_mg_per_min),
        "capped": result.capped,
        "warnings": list(result.warnings),
    }


def _readings(body: Any) -> list[Any]:
    """One reading, a list of them, or {"device": ..., "readings": [...]}."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and "readings" in body:
        readings = body["readings"]
        if not isinstance(readings, list):
            raise FieldErrors({"readings": ["readings must be a list."]})
        device = body.get("device")
        if device:
            return [
                {"device": device, **r}
                if isinstance(r, dict) and "device" not in r
                else r
                for r in readings
            ]
        return readings
    return [body]


@router.post(
    "/infusions/sessions/{session_id}/vitals",
    response={200: VitalsOut},
    summary="Send vital signs from a monitor (one reading or a batch)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            ReadingIn.model_json_schema(),
                            {"type": "array", "items": ReadingIn.model_json_schema()},
                            {
                                "type": "object",
                                "properties": {
                                    "device": {"type": "string"},
                                    "readings": {
                                        "type": "array",
                                        "items": ReadingIn.model_json_schema(),
                                    },
                                },
                                "required": ["readings"],
                            },
                        ]
                    }
                }
            },
            "required": True,
        }
    },
)
def send_vitals(request: HttpRequest, session_id: UUID) -> Any:
    """Readings carry the device (its Device UUID or serial number) and the device's own
    timestamp (ISO 8601 with a time zone). The same (device, timestamp) twice is stored
    once; readings are stored in time order whatever order they arrive in; a reading
    that cannot be stored is kept with its reasons and reported under `rejected`. When
    nothing in the request could be stored, the answer is 422 naming the fields."""
    user = _user(request)
    if not user.can(Capability.RUN_INFUSIONS):
        raise PermissionDenied  # the role first, as the pages do: 403 says nothing of a patient
    unreadable = False
    with transaction.atomic():
        # The access check is the statement that locks the session for the write.
        session = lock_session_row_for_user(
            user,
            session_id,
            capability=Capability.RUN_INFUSIONS,
            related=monitoring.INGEST_RELATIONS,
            only=monitoring.INGEST_FIELDS,
            annotations=monitoring.INGEST_ANNOTATIONS,
        )
        if len(request.body) > MAX_BODY_BYTES:
            raise HttpError(413, "At most 512 KiB per request: send smaller batches.")
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            monitoring.keep_unreadable(
                session, request.body, source=VitalReading.Source.MONITOR, by=user
            )
            unreadable = True
        else:
            readings = _readings(body)
            try:
                result = monitoring.ingest_into_locked(
                    session, readings, source=VitalReading.Source.MONITOR, by=user
                )
            except InfusionError as exc:
                raise FieldErrors(exc.errors) from None
    if unreadable:  # kept (committed), then refused
        raise FieldErrors({"body": ["The body is not JSON."]})
    if not result.accepted and not result.duplicates and result.rejected:
        errors: dict[str, list[str]] = {}
        single = isinstance(body, dict) and "readings" not in body
        for rejected in result.rejected:
            prefix = "" if single else f"readings.{rejected.index}."
            for field, messages in rejected.errors.items():
                errors.setdefault(f"{prefix}{field}", []).extend(messages)
        raise FieldErrors(errors)
    return {
        "accepted": len(result.accepted),
        "duplicates": result.duplicates,
        "rejected": [{"index": r.index, "errors": r.errors} for r in result.rejected],
        "alarms": [
            {
                "code": a.code,
                "severity": a.severity,
                "message": a.message,
                "action": a.action,
                "acknowledged": a.acknowledged_at is not None,
            }
            for a in result.alarms
        ],
    }
