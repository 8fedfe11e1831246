"""Pre-infusion checks that are rules on values: fasting, pregnancy, baseline vitals, weight.

Sources (ids expand in docs/sources.md; tags as in docs/sources.md: [V] verified,
[S] secondary only, [U] unverified, [P] one clinic's practice, [D] our design):
- Fasting: the label says ketamine is "not recommended" when NPO
  guidelines were not followed (K11 [V]); ASA "2-4-6-8" (clear liquids 2 h, light
  meal 6 h, K18 [S]); example clinic: no solids 6 h, clear liquids until 2 h (K22 [P]).
  The hours are protocol settings.
- Pregnancy status: esketamine may harm a fetus (K20 [S]); it is
  asked where it applies. "Applies" = female or intersex at birth, aged 12-55, a
  design default [D] the clinic can change by protocol (a test each time or not).
- Baseline BP: uncontrolled hypertension > 180/100 at rest is a label contraindication
  (K11c [V]); 140/90 before dosing is a caution to weigh (K20 [S]). Heart rate, SpO2
  and respiratory rate use the protocol's alarm limits (docs/clinical/vitals-and-alarms.md).
- Weight: today's weight, kg or lb, inside the dose calculator's plausible range
  (dosing.check_weight_kg), so a 7000 kg patient is a unit error, not a dose.

Pure module: standard library only.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from neuroclinic.lib import dosing
from neuroclinic.lib.vitals import AlarmThresholds, VitalSigns

PREGNANCY_MIN_AGE_YEARS = 12
PREGNANCY_MAX_AGE_YEARS = 55
PREGNANCY_SEXES = frozenset({"female", "intersex"})


@dataclass(frozen=True)
class Finding:
    """One check's answer: `hard_stop` findings block the start; others are cautions."""

    hard_stop: bool
    message: str


def npo_findings(
    *,
    last_solids_at: datetime | None,
    last_clear_liquids_at: datetime | None,
    now: datetime,
    solids_hours: int,
    clear_liquids_hours: int,
) -> list[Finding]:
    findings: list[Finding] = []
    for label, last, hours in (
        ("solid food", last_solids_at, solids_hours),
        ("clear liquids", last_clear_liquids_at, clear_liquids_hours),
    ):
        if last is None:
            findings.append(Finding(True, f"Record when the patient last had {label}."))
            continue
        if last > now + timedelta(minutes=5):
            findings.append(
                Finding(True, f"The time of last {label} is in the future.")
            )
            continue
        since = now - last
        if since < timedelta(hours=hours):
            minutes = int(since.total_seconds() // 60)
            findings.append(
                Finding(
                    True,
                    f"Last {label} {minutes // 60} h {minutes % 60:02d} min ago; the policy "
                    f"asks for {hours} h (K11, K18).",
                )
            )
    return findings


def pregnancy_applies(*, sex_at_birth: str, age_years: int) -> bool:
    return (
        sex_at_birth in PREGNANCY_SEXES
        and PREGNANCY_MIN_AGE_YEARS <= age_years <= PREGNANCY_MAX_AGE_YEARS
    )


def pregnancy_findings(
    *, applies: bool, status: str, test_required: bool
) -> list[Finding]:
    """`status` is one of "", not_applicable, reported_not_pregnant, test_negative, pregnant."""
    if status == "pregnant":
        return [
            Finding(
                True,
                "Pregnant or possibly pregnant: no infusion without the prescriber (K20).",
            )
        ]
    if not applies:
        return []
    if status in ("", "not_applicable"):
        return [Finding(True, "Record pregnancy status (it applies to this patient).")]
    if test_required and status != "test_negative":
        return [Finding(True, "The protocol asks for a negative pregnancy test today.")]
    return []


def baseline_findings(
    vitals: VitalSigns | None,
    *,
    thresholds: AlarmThresholds,
    systolic_max_mmhg: int,
    diastolic_max_mmhg: int,
    systolic_caution_mmhg: int,
    diastolic_caution_mmhg: int,
) -> list[Finding]:
    """Baseline vitals against the protocol: hard stops outside the limits, cautions near them."""
    if vitals is None:
        return [Finding(True, "Take baseline vital signs.")]
    t = thresholds
    findings: list[Finding] = []
    bp = f"Baseline BP {vitals.systolic_mmhg}/{vitals.diastolic_mmhg}"
    if (
        vitals.systolic_mmhg > systolic_max_mmhg
        or vitals.diastolic_mmhg > diastolic_max_mmhg
    ):
        findings.append(
            Finding(
                True,
                f"{bp} is above {systolic_max_mmhg}/{diastolic_max_mmhg} (K11c): recheck "
                "after rest and ask the prescriber.",
            )
        )
    elif (
        vitals.systolic_mmhg > systolic_caution_mmhg
        or vitals.diastolic_mmhg > diastolic_caution_mmhg
    ):
        findings.append(
            Finding(
                False,
                f"{bp} is above {systolic_caution_mmhg}/{diastolic_caution_mmhg}: weigh the "
                "risk before dosing (K20).",
            )
        )
    checks = (
        (
            t.heart_rate_high_bpm is not None
            and vitals.heart_rate_bpm > t.heart_rate_high_bpm,
            f"Heart rate {vitals.heart_rate_bpm}/min is above {t.heart_rate_high_bpm}/min.",
        ),
        (
            t.heart_rate_low_bpm is not None
            and vitals.heart_rate_bpm < t.heart_rate_low_bpm,
            f"Heart rate {vitals.heart_rate_bpm}/min is below {t.heart_rate_low_bpm}/min.",
        ),
        (
            t.spo2_low_percent is not None and vitals.spo2_percent < t.spo2_low_percent,
            f"SpO2 {vitals.spo2_percent}% is below {t.spo2_low_percent}%.",
        ),
        (
            t.respiratory_rate_low_per_min is not None
            and vitals.respiratory_rate_per_min < t.respiratory_rate_low_per_min,
            f"Respiratory rate {vitals.respiratory_rate_per_min}/min is below "
            f"{t.respiratory_rate_low_per_min}/min.",
        ),
    )
    findings.extend(
        Finding(True, f"Baseline: {message}")
        for breached, message in checks
        if breached
    )
    return findings


def parse_weight(text: str, unit: str) -> Decimal:
    """Today's weight typed in kg or lb, as kg; DoseInputError naming `weight_kg` if implausible."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise dosing.DoseInputError(
            "weight_kg", "Enter the weight as a number."
        ) from None
    if not value.is_finite() or value <= 0:
        raise dosing.DoseInputError("weight_kg", "Enter a weight above 0.")
    if unit == "lb":
        value = dosing.lb_to_kg(value)
    elif unit != "kg":
        raise dosing.DoseInputError("weight_unit", "Choose kg or lb.")
    return dosing.check_weight_kg(value)
