"""Vital signs during an infusion: plausibility checks and alarm rules.

Sources (ids expand in docs/sources.md; tags: [V] verified in the source, [S] a
secondary source only, [U] unverified, [P] one clinic's practice, [D] our design):
- Continuous vital-sign monitoring during ketamine (label, K11 [V]); BP every 10 min
  during infusion in depression cohorts (K13, K14, K15 [V]).
- Stop/pause thresholds: an academic esketamine clinic's protocol uses
  BP > 180/110 on two readings 5 min apart, or > 200/120 once, and HR > 120 sustained
  for 5 min, each leading to PRN treatment per protocol (K22 [P], one clinic's
  practice, not a standard). The sources disagree: Sanacora's
  thresholds could not be read (K1 [U]); Yip 2022 argues such stops are too aggressive
  and that hypertension guidelines should be followed, separating emergency (end-organ
  symptoms) from asymptomatic urgency (K12); the esketamine label's 140/90 is a pre-dose
  caution, not an intra-infusion alarm (K20).
- SpO2 limits borrow the modified Aldrete cut points (> 92% on room air scores 2;
  < 90% with oxygen scores 0; K19 [V]): a discharge score, not an alarm standard.
- Low heart-rate and respiratory-rate limits have no published source [U]; they are
  placeholders the medical director must set.
- Actions: alert, pause, notify, document [D]; for hypertension or tachycardia slow or
  pause, PRN antihypertensive (K22 [P], K12); for respiratory depression airway
  support, oxygen, stop the infusion (K11 [V]).

Units: mmHg, beats/min, %, breaths/min. Values are int or Decimal, never float.

Every limit is a field of AlarmThresholds, a clinic setting signed off by the medical
director; None switches that alarm off. The rules in prose: docs/clinical/vitals-and-alarms.md.

Pure module: standard library only.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

type Number = int | Decimal

# Plausible ranges for entry [D]: outside them the value is far more likely a typing
# or unit error, or a monitor artefact, than a live patient. Inclusive.
PLAUSIBLE_SYSTOLIC_MMHG = (Decimal(50), Decimal(300))
PLAUSIBLE_DIASTOLIC_MMHG = (Decimal(20), Decimal(200))
PLAUSIBLE_HEART_RATE_BPM = (Decimal(20), Decimal(250))
PLAUSIBLE_SPO2_PERCENT = (Decimal(50), Decimal(100))
PLAUSIBLE_RESPIRATORY_RATE_PER_MIN = (Decimal(4), Decimal(60))
PLAUSIBLE_ETCO2_MMHG = (Decimal(0), Decimal(100))

_PLAUSIBLE_RANGES: tuple[tuple[str, tuple[Decimal, Decimal], str], ...] = (
    ("systolic_mmhg", PLAUSIBLE_SYSTOLIC_MMHG, "mmHg"),
    ("diastolic_mmhg", PLAUSIBLE_DIASTOLIC_MMHG, "mmHg"),
    ("heart_rate_bpm", PLAUSIBLE_HEART_RATE_BPM, "beats/min"),
    ("spo2_percent", PLAUSIBLE_SPO2_PERCENT, "%"),
    ("respiratory_rate_per_min", PLAUSIBLE_RESPIRATORY_RATE_PER_MIN, "breaths/min"),
    ("etco2_mmhg", PLAUSIBLE_ETCO2_MMHG, "mmHg"),
)


@dataclass(frozen=True, kw_only=True)
class VitalSigns:
    systolic_mmhg: Number
    diastolic_mmhg: Number
    heart_rate_bpm: Number
    spo2_percent: Number
    respiratory_rate_per_min: Number
    etco2_mmhg: Number | None = None  # only where capnography is used (K17)


@dataclass(frozen=True)
class TimedVitalSigns:
    taken_at: datetime  # timezone-aware
    vitals: VitalSigns


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class AlarmCode(StrEnum):
    BP_CRITICAL = "bp_critical"
    BP_HIGH = "bp_high"
    HEART_RATE_HIGH = "heart_rate_high"
    HEART_RATE_LOW = "heart_rate_low"
    SPO2_CRITICAL = "spo2_critical"
    SPO2_LOW = "spo2_low"
    RESPIRATORY_RATE_LOW = "respiratory_rate_low"
    RESPIRATORY_RATE_CRITICAL = "respiratory_rate_critical"
    HEART_RATE_CRITICAL = "heart_rate_critical"
    BP_LOW = "bp_low"
    BP_LOW_CRITICAL = "bp_low_critical"
    ETCO2_HIGH = "etco2_high"
    ETCO2_CRITICAL = "etco2_critical"


CRITICAL_CODES = frozenset(
    {
        AlarmCode.BP_CRITICAL,
        AlarmCode.SPO2_CRITICAL,
        AlarmCode.RESPIRATORY_RATE_CRITICAL,
        AlarmCode.HEART_RATE_CRITICAL,
        AlarmCode.BP_LOW_CRITICAL,
        AlarmCode.ETCO2_CRITICAL,
    }
)


class AlarmSeverity(StrEnum):
    WARNING = "warning"  # act per protocol and tell the clinician
    CRITICAL = "critical"  # act now


@dataclass(frozen=True)
class Alarm:
    code: AlarmCode
    severity: AlarmSeverity
    message: str
    action: str  # suggested protocol action; the clinician decides
    source: str  # the source ids behind the default (docs/sources.md)
    taken_at: datetime  # the latest reading that breached
    consecutive_readings: int


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """Alarm limits. High limits breach when the value is above them, low limits
    when it is below them. A warning alarm needs `*_consecutive_readings` breaching
    readings in a row, spanning at least `*_min_span_minutes`; a critical limit fires
    on a single reading.
    """

    # K22 [P]: BP > 180/110 on two readings 5 min apart (either number counts).
    systolic_high_mmhg: int | None = 180
    diastolic_high_mmhg: int | None = 110
    bp_high_consecutive_readings: int = 2
    bp_high_min_span_minutes: int = 5
    # K22 [P]: BP > 200/120 once.
    systolic_critical_mmhg: int | None = 200
    diastolic_critical_mmhg: int | None = 120
    # K22 [P]: HR > 120 sustained for 5 min.
    heart_rate_high_bpm: int | None = 120
    heart_rate_high_consecutive_readings: int = 2
    heart_rate_high_min_span_minutes: int = 5
    # [U] No published source; a placeholder for the medical director to set.
    heart_rate_low_bpm: int | None = 50
    heart_rate_low_consecutive_readings: int = 2
    heart_rate_low_min_span_minutes: int = 0
    # K19 [V]: a full Aldrete SpO2 score needs > 92% on room air. Used here as an
    # alarm limit [D]; note 92% itself does not alarm but scores only 1 in Aldrete.
    spo2_low_percent: int | None = 92
    spo2_low_consecutive_readings: int = 2
    spo2_low_min_span_minutes: int = 0
    # K19 [V]: < 90% scores 0 in Aldrete; fires on one reading because waiting for a
    # second reading of a desaturating patient is unsafe [D]; action per K11.
    spo2_critical_percent: int | None = 90
    # [U] No published source; respiratory depression is a label warning (K11).
    respiratory_rate_low_per_min: int | None = 10
    respiratory_rate_low_consecutive_readings: int = 2
    respiratory_rate_low_min_span_minutes: int = 0
    # Critical limits fire on a single reading: waiting for a second reading of a
    # patient who is desaturating, not breathing enough, bradycardic or hypotensive is
    # unsafe [D]. Respiratory depression: label warning (K11); airway support and
    # continuous monitoring (K17, K17b). The values are [U] placeholders the medical
    # director signs off in the protocol.
    respiratory_rate_critical_per_min: int | None = 8
    heart_rate_critical_low_bpm: int | None = 45
    # Hemodynamic instability is a label warning (K11); the Aldrete circulation item
    # scores the distance from the pre-infusion BP (K19). Limits [U].
    systolic_low_mmhg: int | None = 100
    bp_low_consecutive_readings: int = 2
    bp_low_min_span_minutes: int = 0
    systolic_critical_low_mmhg: int | None = 90
    # Capnography where used (K17, K17b): a rising EtCO2 is hypoventilation, a near-zero
    # EtCO2 is apnoea or a displaced sampling line. Limits [U].
    etco2_high_mmhg: int | None = 50
    etco2_high_consecutive_readings: int = 2
    etco2_high_min_span_minutes: int = 0
    etco2_critical_low_mmhg: int | None = 10

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_consecutive_readings") and value < 1:
                raise ValueError(f"{field.name} must be at least 1, not {value}")
            if field.name.endswith("_min_span_minutes") and value < 0:
                raise ValueError(f"{field.name} must not be negative, not {value}")
        for critical, warning in (
            ("systolic_critical_mmhg", "systolic_high_mmhg"),
            ("diastolic_critical_mmhg", "diastolic_high_mmhg"),
        ):
            critical_value, warning_value = (
                getattr(self, critical),
                getattr(self, warning),
            )
            if (
                None not in (critical_value, warning_value)
                and critical_value <= warning_value
            ):
                raise ValueError(f"{critical} must be above {warning}")
        for critical, warning in (
            ("spo2_critical_percent", "spo2_low_percent"),
            ("respiratory_rate_critical_per_min", "respiratory_rate_low_per_min"),
            ("heart_rate_critical_low_bpm", "heart_rate_low_bpm"),
            ("systolic_critical_low_mmhg", "systolic_low_mmhg"),
        ):
            critical_value, warning_value = (
                getattr(self, critical),
                getattr(self, warning),
            )
            if (
                None not in (critical_value, warning_value)
                and critical_value >= warning_value
            ):
                raise ValueError(f"{critical} must be below {warning}")


_NOTIFY_AND_DOCUMENT = "Notify the clinician and document the intervention."

_ACTIONS: dict[AlarmCode, tuple[str, str]] = {
    AlarmCode.BP_CRITICAL: (
        "Pause the infusion and notify the clinician now. Assess for end-organ symptoms "
        "(hypertensive emergency vs asymptomatic urgency); PRN antihypertensive per "
        "clinic protocol. Document the intervention.",
        "K22 [P], K12",
    ),
    AlarmCode.BP_HIGH: (
        "Slow or pause the infusion and recheck BP; PRN antihypertensive per clinic "
        "protocol; assess for end-organ symptoms. " + _NOTIFY_AND_DOCUMENT,
        "K22 [P], K12",
    ),
    AlarmCode.HEART_RATE_HIGH: (
        "Slow or pause the infusion; PRN treatment per clinic protocol. "
        + _NOTIFY_AND_DOCUMENT,
        "K22 [P]",
    ),
    AlarmCode.HEART_RATE_LOW: (
        "Recheck the patient and the monitor. " + _NOTIFY_AND_DOCUMENT,
        "[U] no published source",
    ),
    AlarmCode.RESPIRATORY_RATE_CRITICAL: (
        "Stop the infusion; support the airway and give oxygen; notify the clinician "
        "now. Document the intervention.",
        "K11, K17; limit [U]",
    ),
    AlarmCode.HEART_RATE_CRITICAL: (
        "Stop the infusion; assess the patient and the rhythm; notify the clinician "
        "now. Document the intervention.",
        "K11; limit [U]",
    ),
    AlarmCode.BP_LOW: (
        "Recheck BP and assess the patient; slow or pause the infusion. "
        + _NOTIFY_AND_DOCUMENT,
        "K11, K19; limit [U]",
    ),
    AlarmCode.BP_LOW_CRITICAL: (
        "Stop the infusion; lay the patient flat and assess; notify the clinician now. "
        "Document the intervention.",
        "K11, K19; limit [U]",
    ),
    AlarmCode.ETCO2_HIGH: (
        "Assess breathing (hypoventilation); stimulate, airway support and oxygen per "
        "protocol. " + _NOTIFY_AND_DOCUMENT,
        "K17, K17b; limit [U]",
    ),
    AlarmCode.ETCO2_CRITICAL: (
        "Check for apnoea and the sampling line now; support the airway, stop the "
        "infusion; notify the clinician now. Document the intervention.",
        "K17, K17b; limit [U]",
    ),
    AlarmCode.SPO2_CRITICAL: (
        "Stop the infusion; support the airway and give oxygen; notify the clinician "
        "now. Document the intervention.",
        "K11, K19",
    ),
    AlarmCode.SPO2_LOW: (
        "Assess airway and breathing and check the probe; give oxygen per protocol; stop "
        "the infusion if breathing is depressed. " + _NOTIFY_AND_DOCUMENT,
        "K11, K19",
    ),
    AlarmCode.RESPIRATORY_RATE_LOW: (
        "Assess for respiratory depression: airway support and oxygen, stop the infusion "
        "if breathing is depressed. " + _NOTIFY_AND_DOCUMENT,
        "K11; limit [U]",
    ),
}


def check_plausible(reading: VitalSigns) -> list[FieldError]:
    """Field errors for values that are not plausible, empty if the reading is fine.

    This is an entry check (typing slips, unit mix-ups, artefacts such as SpO2 101%
    or BP 400/20). It does not judge whether a plausible value is safe: that is
    evaluate_alarms().
    """
    errors: list[FieldError] = []
    valid: dict[str, Decimal] = {}
    for name, (low, high), unit in _PLAUSIBLE_RANGES:
        value = getattr(reading, name)
        if value is None and name == "etco2_mmhg":
            continue
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            errors.append(
                FieldError(
                    name,
                    f"{name} must be an int or Decimal, not {type(value).__name__}",
                )
            )
            continue
        number = Decimal(value)
        if not number.is_finite():
            errors.append(FieldError(name, f"{name} must be a finite number"))
        elif not low <= number <= high:
            errors.append(
                FieldError(
                    name,
                    f"{name} {number} {unit} is outside the plausible range "
                    f"{low}-{high} {unit}; check the entry",
                )
            )
        else:
            valid[name] = number
    systolic, diastolic = valid.get("systolic_mmhg"), valid.get("diastolic_mmhg")
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        errors.append(
            FieldError(
                "diastolic_mmhg",
                f"diastolic_mmhg {diastolic} must be below systolic_mmhg {systolic}",
            )
        )
    return errors


def evaluate_alarms(
    readings: Sequence[TimedVitalSigns], thresholds: AlarmThresholds
) -> list[Alarm]:
    """Alarms active at the latest reading, most severe first.

    Readings are sorted by `taken_at` first, so input order does not matter. A
    warning alarm fires when the trailing run of breaching readings is at least
    N long and spans at least the configured minutes (so "two readings 5 min apart"
    and "sustained for 5 min" on a 1-minute monitor feed both work). When a
    parameter's critical alarm fires, its warning alarm is not repeated. Readings
    are not re-checked for plausibility here: an implausible value that breaches
    still alarms, which is the safe direction.
    """
    for reading in readings:
        if reading.taken_at.utcoffset() is None:
            raise ValueError("taken_at must be timezone-aware")
    ordered = sorted(readings, key=lambda reading: reading.taken_at)
    if not ordered:
        return []
    latest = ordered[-1]
    vitals = latest.vitals
    t = thresholds
    breaches = _sustained_breaches(t)
    alarms: list[Alarm | None] = []

    bp = f"BP {vitals.systolic_mmhg}/{vitals.diastolic_mmhg} mmHg"
    if _above(t.systolic_critical_mmhg, vitals.systolic_mmhg) or _above(
        t.diastolic_critical_mmhg, vitals.diastolic_mmhg
    ):
        critical = _pair(t.systolic_critical_mmhg, t.diastolic_critical_mmhg)
        alarms.append(
            _alarm(
                AlarmCode.BP_CRITICAL,
                f"{bp} is above {critical} on 1 reading",
                [latest],
            )
        )
    else:
        high = _pair(t.systolic_high_mmhg, t.diastolic_high_mmhg)
        alarms.append(
            _sustained_alarm(
                ordered,
                AlarmCode.BP_HIGH,
                breaches[AlarmCode.BP_HIGH],
                readings=t.bp_high_consecutive_readings,
                min_span_minutes=t.bp_high_min_span_minutes,
                description=f"{bp} is above {high}",
            )
        )

    spo2 = f"SpO2 {vitals.spo2_percent}%"
    if _below(t.spo2_critical_percent, vitals.spo2_percent):
        alarms.append(
            _alarm(
                AlarmCode.SPO2_CRITICAL,
                f"{spo2} is below {t.spo2_critical_percent}% on 1 reading",
                [latest],
            )
        )
    else:
        alarms.append(
            _sustained_alarm(
                ordered,
                AlarmCode.SPO2_LOW,
                breaches[AlarmCode.SPO2_LOW],
                readings=t.spo2_low_consecutive_readings,
                min_span_minutes=t.spo2_low_min_span_minutes,
                description=f"{spo2} is below {t.spo2_low_percent}%",
            )
        )

    low_bp = f"Systolic BP {vitals.systolic_mmhg} mmHg"
    if _below(t.systolic_critical_low_mmhg, vitals.systolic_mmhg):
        alarms.append(
            _alarm(
                AlarmCode.BP_LOW_CRITICAL,
                f"{low_bp} is below {t.systolic_critical_low_mmhg} mmHg on 1 reading",
                [latest],
            )
        )
    else:
        alarms.append(
            _sustained_alarm(
                ordered,
                AlarmCode.BP_LOW,
                breaches[AlarmCode.BP_LOW],
                readings=t.bp_low_consecutive_readings,
                min_span_minutes=t.bp_low_min_span_minutes,
                description=f"{low_bp} is below {t.systolic_low_mmhg} mmHg",
            )
        )

    if vitals.etco2_mmhg is not None and _below(
        t.etco2_critical_low_mmhg, vitals.etco2_mmhg
    ):
        alarms.append(
            _alarm(
                AlarmCode.ETCO2_CRITICAL,
                f"EtCO2 {vitals.etco2_mmhg} mmHg is below {t.etco2_critical_low_mmhg} "
                "mmHg on 1 reading",
                [latest],
            )
        )
    elif vitals.etco2_mmhg is not None:
        alarms.append(
            _sustained_alarm(
                ordered,
                AlarmCode.ETCO2_HIGH,
                breaches[AlarmCode.ETCO2_HIGH],
                readings=t.etco2_high_consecutive_readings,
                min_span_minutes=t.etco2_high_min_span_minutes,
                description=f"EtCO2 {vitals.etco2_mmhg} mmHg is above {t.etco2_high_mmhg} mmHg",
            )
        )

    respiratory = f"Respiratory rate {vitals.respiratory_rate_per_min}/min"
    if _below(t.respiratory_rate_critical_per_min, vitals.respiratory_rate_per_min):
        alarms.append(
            _alarm(
                AlarmCode.RESPIRATORY_RATE_CRITICAL,
                f"{respiratory} is below {t.respiratory_rate_critical_per_min}/min "
                "on 1 reading",
                [latest],
            )
        )
    else:
        alarms.append(
            _sustained_alarm(
                ordered,
                AlarmCode.RESPIRATORY_RATE_LOW,
                breaches[AlarmCode.RESPIRATORY_RATE_LOW],
                readings=t.respiratory_rate_low_consecutive_readings,
                min_span_minutes=t.respiratory_rate_low_min_span_minutes,
                description=f"Respiratory rate {vitals.respiratory_rate_per_min}/min is below "
                f"{t.respiratory_rate_low_per_min}/min",
            )
        )

    heart_rate = f"Heart rate {vitals.heart_rate_bpm}/min"
    alarms.append(
        _sustained_alarm(
            ordered,
            AlarmCode.HEART_RATE_HIGH,
            breaches[AlarmCode.HEART_RATE_HIGH],
            readings=t.heart_rate_high_consecutive_readings,
            min_span_minutes=t.heart_rate_high_min_span_minutes,
            description=f"{heart_rate} is above {t.heart_rate_high_bpm}/min",
        )
    )
    if _below(t.heart_rate_critical_low_bpm, vitals.heart_rate_bpm):
        alarms.append(
            _alarm(
                AlarmCode.HEART_RATE_CRITICAL,
                f"{heart_rate} is below {t.heart_rate_critical_low_bpm}/min on 1 reading",
                [latest],
            )
        )
    else:
        alarms.append(
            _sustained_alarm(
                ordered,
                AlarmCode.HEART_RATE_LOW,
                breaches[AlarmCode.HEART_RATE_LOW],
                readings=t.heart_rate_low_consecutive_readings,
                min_span_minutes=t.heart_rate_low_min_span_minutes,
                description=f"{heart_rate} is below {t.heart_rate_low_bpm}/min",
            )
        )

    # Critical first; within a severity, the order above (BP, SpO2, RR, HR). sorted() is stable.
    return sorted(
        (alarm for alarm in alarms if alarm is not None),
        key=lambda alarm: 0 if alarm.severity is AlarmSeverity.CRITICAL else 1,
    )


def _sustained_breaches(
    t: AlarmThresholds,
) -> dict[AlarmCode, Callable[[VitalSigns], bool]]:
    """Each warning rule's test of one reading: the rules that count a run of readings.

    The critical limits are not here: they look at the latest reading only.
    """
    return {
        AlarmCode.BP_HIGH: lambda v: (
            _above(t.systolic_high_mmhg, v.systolic_mmhg)
            or _above(t.diastolic_high_mmhg, v.diastolic_mmhg)
        ),
        AlarmCode.SPO2_LOW: lambda v: _below(t.spo2_low_percent, v.spo2_percent),
        AlarmCode.BP_LOW: lambda v: _below(t.systolic_low_mmhg, v.systolic_mmhg),
        AlarmCode.ETCO2_HIGH: lambda v: _above(t.etco2_high_mmhg, v.etco2_mmhg),
        AlarmCode.RESPIRATORY_RATE_LOW: lambda v: _below(
            t.respiratory_rate_low_per_min, v.respiratory_rate_per_min
        ),
        AlarmCode.HEART_RATE_HIGH: lambda v: _above(
            t.heart_rate_high_bpm, v.heart_rate_bpm
        ),
        AlarmCode.HEART_RATE_LOW: lambda v: _below(
            t.heart_rate_low_bpm, v.heart_rate_bpm
        ),
    }


def earlier_readings_matter(
    latest: Sequence[TimedVitalSigns], thresholds: AlarmThresholds
) -> bool:
    """Whether readings taken before all of `latest` could change evaluate_alarms(`latest`).

    evaluate_alarms looks at the latest reading and, per warning rule, at the run of
    breaching readings that ends with it. When every warning rule has a reading in
    `latest` that does not breach it, every such run ends inside `latest`, so any
    readings before them give the same alarms. False only then; True for no readings.
    """
    if not latest:
        return True
    return any(
        all(breaches(reading.vitals) for reading in latest)
        for breaches in _sustained_breaches(thresholds).values()
    )


def _above(limit: int | None, value: Number | None) -> bool:
    return limit is not None and value is not None and value > limit


def _below(limit: int | None, value: Number | None) -> bool:
    return limit is not None and value is not None and value < limit


def _sustained_alarm(
    ordered: Sequence[TimedVitalSigns],
    code: AlarmCode,
    breaches: Callable[[VitalSigns], bool],
    *,
    readings: int,
    min_span_minutes: int,
    description: str,
) -> Alarm | None:
    run = _trailing_run(ordered, breaches)
    if len(run) < readings or not run:
        return None
    span = run[-1].taken_at - run[0].taken_at
    if span < timedelta(minutes=min_span_minutes):
        return None
    if len(run) == 1:
        return _alarm(code, f"{description} on 1 reading", run)
    minutes = span / timedelta(minutes=1)
    return _alarm(
        code,
        f"{description} on {len(run)} consecutive readings over {minutes:g} min",
        run,
    )


def _trailing_run(
    ordered: Sequence[TimedVitalSigns], breaches: Callable[[VitalSigns], bool]
) -> list[TimedVitalSigns]:
    """The latest readings that all breach, oldest first, up to the first that does not."""
    run: list[TimedVitalSigns] = []
    for reading in reversed(ordered):
        if not breaches(reading.vitals):
            break
        run.append(reading)
    run.reverse()
    return run


def _pair(systolic: int | None, diastolic: int | None) -> str:
    return f"{'-' if systolic is None else systolic}/{'-' if diastolic is None else diastolic}"


def _alarm(code: AlarmCode, message: str, run: list[TimedVitalSigns]) -> Alarm:
    severity = (
        AlarmSeverity.CRITICAL if code in CRITICAL_CODES else AlarmSeverity.WARNING
    )
    action, source = _ACTIONS[code]
    return Alarm(
        code=code,
        severity=severity,
        message=message,
        action=action,
        source=source,
        taken_at=run[-1].taken_at,
        consecutive_readings=len(run),
    )


# ECG rhythm (issue #14 item 8) -----------------------------------------------------
# Optional: "ECG per clinic" (domain: K11 [V] continuous monitoring; ACEP asks for
# cardiac monitoring during dissociative sedation, K17 [V]; ASA's ECG standard is for
# anaesthesia care, K17b [V]). The nurse or the monitor names the rhythm; "other" needs
# a few words. A rhythm other than sinus rhythm is shown as needing review [D]: it
# raises no alarm by itself, since the rate alarms already cover fast and slow rates
# and an interpretation is the clinician's (docs/clinical/vitals-and-alarms.md).
ECG_RHYTHMS: dict[str, str] = {
    "sinus_rhythm": "Sinus rhythm",
    "sinus_tachycardia": "Sinus tachycardia",
    "sinus_bradycardia": "Sinus bradycardia",
    "atrial_fibrillation": "Atrial fibrillation",
    "other": "Other",
}
ECG_OTHER_MAX_LENGTH = 100


def check_ecg_rhythm(rhythm: str | None, other: str | None) -> list[FieldError]:
    """What is wrong with an ECG rhythm as given (both empty: not recorded, fine)."""
    rhythm = (rhythm or "").strip()
    other = (other or "").strip()
    if not rhythm:
        if other:
            return [
                FieldError(
                    "ecg_rhythm",
                    "choose 'other' for a rhythm described in words",
                )
            ]
        return []
    if rhythm not in ECG_RHYTHMS:
        return [
            FieldError(
                "ecg_rhythm",
                f"ecg_rhythm must be one of {', '.join(ECG_RHYTHMS)}, not {rhythm[:30]!r}",
            )
        ]
    if rhythm == "other" and not other:
        return [FieldError("ecg_rhythm_other", "describe the rhythm seen")]
    if rhythm != "other" and other:
        return [FieldError("ecg_rhythm_other", "a description goes with 'other' only")]
    if len(other) > ECG_OTHER_MAX_LENGTH:
        return [
            FieldError(
                "ecg_rhythm_other",
                f"describe the rhythm in at most {ECG_OTHER_MAX_LENGTH} characters",
            )
        ]
    return []


def ecg_rhythm_label(rhythm: str | None, other: str | None) -> str:
    """The rhythm as shown: its label, or the words given for 'other'; "" when not recorded."""
    if not rhythm:
        return ""
    if rhythm == "other":
        return f"Other: {other}" if other else "Other"
    return ECG_RHYTHMS.get(rhythm, rhythm)


def ecg_needs_review(rhythm: str | None) -> bool:
    """A recorded rhythm other than sinus rhythm is shown for the clinician's review [D]."""
    return bool(rhythm) and rhythm != "sinus_rhythm"
