"""Post-ictal vital signs after a seizure in a TMS session: what is recorded and its ranges.

Recording vitals and post-ictal status belongs to the seizure path in software (docs/sources.md
T7, T9; [D]). The plausible ranges for heart rate, blood pressure and SpO2 are the infusion
chart's (`lib.vitals`, [D]): outside them a value is far more likely a typing or unit error
than a live patient. The consciousness level is AVPU (alert, voice, pain, unresponsive)
and, when scored, the Glasgow Coma Scale total 3-15; neither scale has a cited
source in docs/sources.md, so both are our design [D] (they are the scales an emergency record uses).

Every vital is optional (in a seizure the monitor may not be on), but a blood pressure
is both numbers, systolic above diastolic, and any vital taken needs the time it was
taken, not before the onset (to the minute) and not in the future. Units: beats/min, mmHg, %.

Pure module: standard library only.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from neuroclinic.lib.vitals import (
    PLAUSIBLE_DIASTOLIC_MMHG,
    PLAUSIBLE_HEART_RATE_BPM,
    PLAUSIBLE_SPO2_PERCENT,
    PLAUSIBLE_SYSTOLIC_MMHG,
)

AVPU_CHOICES = [
    ("alert", "Alert"),
    ("voice", "Responds to voice"),
    ("pain", "Responds to pain"),
    ("unresponsive", "Unresponsive"),
]
GCS_RANGE = (3, 15)

_RANGES: tuple[tuple[str, str, tuple[Decimal, Decimal], str], ...] = (
    ("heart_rate_bpm", "Heart rate", PLAUSIBLE_HEART_RATE_BPM, "beats/min"),
    ("systolic_mmhg", "Systolic blood pressure", PLAUSIBLE_SYSTOLIC_MMHG, "mmHg"),
    ("diastolic_mmhg", "Diastolic blood pressure", PLAUSIBLE_DIASTOLIC_MMHG, "mmHg"),
    ("spo2_percent", "SpO2", PLAUSIBLE_SPO2_PERCENT, "%"),
)


@dataclass(frozen=True, kw_only=True)
class PostIctal:
    heart_rate_bpm: int | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    spo2_percent: int | None = None
    consciousness_avpu: str | None = None
    gcs_total: int | None = None
    taken_at: datetime | None = None

    @property
    def any_vital(self) -> bool:
        return any(
            v is not None
            for v in (
                self.heart_rate_bpm,
                self.systolic_mmhg,
                self.diastolic_mmhg,
                self.spo2_percent,
                self.consciousness_avpu,
                self.gcs_total,
            )
        )


def check(values: PostIctal, *, onset_at: datetime, now: datetime) -> dict[str, str]:
    """Field -> message for every value out of range or inconsistent; {} when all is well."""
    errors: dict[str, str] = {}
    for name, label, (low, high), unit in _RANGES:
        value = getattr(values, name)
        if value is not None and not (low <= Decimal(value) <= high):
            errors[name] = (
                f"{label} {value} {unit} is outside {low}-{high} {unit}: "
                "check the value and its unit."
            )
    systolic, diastolic = values.systolic_mmhg, values.diastolic_mmhg
    if (systolic is None) != (diastolic is None):
        missing = "diastolic_mmhg" if diastolic is None else "systolic_mmhg"
        errors.setdefault(
            missing, "A blood pressure is both numbers: systolic and diastolic."
        )
    elif (
        systolic is not None
        and diastolic is not None
        and "systolic_mmhg" not in errors
        and "diastolic_mmhg" not in errors
        and diastolic >= systolic
    ):
        errors["diastolic_mmhg"] = (
            f"Diastolic {diastolic} mmHg is not below systolic {systolic} mmHg."
        )
    if values.consciousness_avpu is not None and values.consciousness_avpu not in {
        code for code, _ in AVPU_CHOICES
    }:
        errors["consciousness_avpu"] = (
            "Choose alert, voice, pain or unresponsive (AVPU)."
        )
    if values.gcs_total is not None and not (
        GCS_RANGE[0] <= values.gcs_total <= GCS_RANGE[1]
    ):
        errors["gcs_total"] = (
            f"A Glasgow Coma Scale total is 3-15, not {values.gcs_total}."
        )
    if values.any_vital and values.taken_at is None:
        errors["vitals_taken_at"] = "Say when the vitals were taken."
    if values.taken_at is not None:
        if values.taken_at > now:
            errors["vitals_taken_at"] = "The vitals cannot be taken in the future."
        # To the minute: a time entered on the page has no seconds, so vitals taken in
        # the minute the seizure began are not "before" it.
        elif values.taken_at < onset_at.replace(second=0, microsecond=0):
            errors["vitals_taken_at"] = (
                "Post-ictal vitals are taken after the seizure began."
            )
    return errors


def describe(
    *,
    heart_rate_bpm: int | None,
    systolic_mmhg: int | None,
    diastolic_mmhg: int | None,
    spo2_percent: int | None,
    consciousness_avpu: str | None,
    gcs_total: int | None,
    taken_at: datetime | None,
) -> str:
    """One line for the note and pages: "HR 96 beats/min, BP 150/90 mmHg, ... at 10:42 UTC"."""
    parts = []
    if heart_rate_bpm is not None:
        parts.append(f"HR {heart_rate_bpm} beats/min")
    if systolic_mmhg is not None and diastolic_mmhg is not None:
        parts.append(f"BP {systolic_mmhg}/{diastolic_mmhg} mmHg")
    if spo2_percent is not None:
        parts.append(f"SpO2 {spo2_percent} %")
    if consciousness_avpu is not None:
        parts.append("AVPU " + dict(AVPU_CHOICES).get(consciousness_avpu, "?").lower())
    if gcs_total is not None:
        parts.append(f"GCS {gcs_total}")
    if not parts:
        return ""
    when = f" at {taken_at:%H:%M} UTC" if taken_at is not None else ""
    return ", ".join(parts) + when
