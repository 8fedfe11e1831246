"""The default IV ketamine protocols a clinic starts from, each value with its source.

Sources (ids expand in docs/sources.md): every value below carries its citation in DEFAULT_CITATIONS, and the protocol page
shows it next to the value. Tags: [V] verified, [S] secondary, [U] unverified,
[P] one clinic's practice, [D] a design choice. Nothing here is clinical advice: the
medical director reviews, changes and signs the clinic's protocols before use.

Units are in the names: mg/kg, minutes, days, hours, mmHg, mL, percent.

Pure module: standard library only.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class ProtocolKind(StrEnum):
    INDUCTION = "induction"
    BOOSTER = "booster"


@dataclass(frozen=True)
class PrnDefault:
    drug: str
    dose: Decimal
    unit: str
    route: str
    indication: str
    max_doses_per_session: int
    source: str


@dataclass(frozen=True, kw_only=True)
class ProtocolDefaults:
    kind: ProtocolKind
    name: str
    infusion_count: int
    infusions_per_week_min: int
    infusions_per_week_max: int
    series_window_days: int
    min_days_between_infusions: int
    dose_mg_per_kg: Decimal
    duration_minutes: int
    dosing_weight_rule: str
    titration_step_mg_per_kg: Decimal
    max_dose_mg_per_kg: Decimal
    max_dose_mg: Decimal
    diluent_volume_ml: Decimal
    rate_min_percent: int
    rate_max_percent: int
    vitals_interval_minutes: int
    recovery_vitals_interval_minutes: int
    baseline_systolic_max_mmhg: int
    baseline_diastolic_max_mmhg: int
    baseline_systolic_caution_mmhg: int
    baseline_diastolic_caution_mmhg: int
    npo_solids_hours: int
    npo_clear_liquids_hours: int
    min_recovery_minutes: int
    min_aldrete_total: int
    min_moaas_score: int
    follow_up_window_start_days: int
    follow_up_window_end_days: int
    booster_interval_days_min: int
    booster_interval_days_max: int
    pregnancy_test_required: bool
    second_check_required: bool
    titration_instructions: str
    prn_medications: tuple[PrnDefault, ...] = field(default=())


# Where each default comes from. Keys are field names of ProtocolDefaults (and of
# the Protocol model); "alarm_thresholds" covers the vitals.AlarmThresholds defaults.
DEFAULT_CITATIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "infusion_count": (
            "6 infusions: Murrough 2013 (K5 [V], up to 6 over 12 days) "
            "and the usual private-clinic induction series (K22 [P])."
        ),
        "infusions_per_week_min": (
            "2 a week: twice weekly as effective as thrice weekly (K4 [V])."
        ),
        "infusions_per_week_max": "3 a week (K4 [V], K5 [V]).",
        "series_window_days": (
            "21 days: issue #6; 6 infusions at 2-3 a week fit in 3 weeks "
            "(K4, K5; K22 [P] '6 infusions in ~2 weeks')."
        ),
        "min_days_between_infusions": (
            "1 day: alternate-day and 2-3-a-week schedules (K4, K4b, K5) "
            "never give two on one day [D]."
        ),
        "dose_mg_per_kg": "0.5 mg/kg: the standard research dose (K3, K4, K5, K13 [V]).",
        "duration_minutes": "40 minutes (K3, K4, K5, K13 [V]).",
        "dosing_weight_rule": (
            "Actual body weight, as the landmark trials dosed (K2 [V]); the "
            "consensus suggested ideal body weight when BMI >= 30 (K2), a choice for the "
            "prescriber per order."
        ),
        "titration_step_mg_per_kg": (
            "0.1 mg/kg steps: some respond at 0.1 mg/kg, others need up to 0.75 mg/kg "
            "(K3 [V]); society guidance allows escalation as needed (K10) [D step]."
        ),
        "max_dose_mg_per_kg": (
            "1.0 mg/kg ceiling: the top of the society starting range 0.5-1 mg/kg (K10 [V]) "
            "and the highest dose in the dose-ranging RCT (K6 [V]). No authoritative cap "
            "was found [U]: the ceiling is a setting [D]."
        ),
        "max_dose_mg": (
            "100 mg absolute cap: a design default, a "
            "configurable absolute ceiling [D]; 1.0 mg/kg for a 100 kg patient."
        ),
        "diluent_volume_ml": (
            "100 mL 0.9% NaCl: 0.5 mg/kg in 100 mL NS over 40 min (K4b [V]); the "
            "worked example of docs/clinical/dosing.md."
        ),
        "rate_min_percent": (
            "The nurse may slow the pump to 25% of the calculated rate for side effects "
            "(slow/pause for hypertension or tachycardia, K22 [P]); 25% is [D]."
        ),
        "rate_max_percent": (
            "Never faster than the calculated rate: rapid IV administration can cause "
            "respiratory depression (ketamine label K11 [V])."
        ),
        "vitals_interval_minutes": (
            "Every 10 minutes during the infusion (K13, K14, K15 [V]); the "
            "label asks for continuous monitoring (K11)."
        ),
        "recovery_vitals_interval_minutes": "Every 15 minutes after the infusion (K13 [V]).",
        "baseline_systolic_max_mmhg": (
            "Hard stop above 180/100 at rest: uncontrolled hypertension is a label "
            "contraindication (Swiss label K11c [V]); the US label says a "
            "significant BP rise must not be a serious hazard (K11)."
        ),
        "baseline_diastolic_max_mmhg": "100 mmHg: as above (K11c [V]).",
        "baseline_systolic_caution_mmhg": (
            "Caution above 140/90 before dosing: weigh the risk (esketamine analog, "
            "K20 [S])."
        ),
        "baseline_diastolic_caution_mmhg": "90 mmHg: as above (K20 [S]).",
        "npo_solids_hours": (
            "No solids for 6 hours: light meal 6 h (ASA 2-4-6-8, K18 [S]); example clinic "
            "instruction 'no solids/milk 6 h' (K22 [P]); label: NPO guidelines (K11 [V])."
        ),
        "npo_clear_liquids_hours": "Clear liquids until 2 hours before (K18 [S], K22 [P]).",
        "min_recovery_minutes": (
            "30 minutes after the infusion ends: BP/HR were followed for 30 min after in "
            "741 infusions (K15 [V]). No source sets a minimum for IV "
            "ketamine; the esketamine analog observes >= 2 h (K20). The medical director "
            "must choose."
        ),
        "min_aldrete_total": "Modified Aldrete >= 9 'commonly required' (K19 [V]).",
        "min_moaas_score": (
            "MOAA/S 5, responds readily to name: back to pre-treatment awareness (ACEP, "
            "K17 [V]); docs/clinical/recovery.md."
        ),
        "follow_up_window_start_days": (
            "The 10-14 day follow-up window after the series (issue #6); relapse among "
            "responders came at a median 18 days (K5 [V])."
        ),
        "follow_up_window_end_days": "14 days: as above (issue #6; K5).",
        "booster_interval_days_min": (
            "Boosters often every 4-6 weeks when symptoms return (K22 [P]); "
            "dose a little before the effect is expected to wear off (K3 [V])."
        ),
        "booster_interval_days_max": "6 weeks: as above (K22 [P]).",
        "pregnancy_test_required": (
            "Pregnancy status is asked before each infusion where it applies (esketamine "
            "may harm a fetus, K20 [S]); a test each time is a clinic "
            "choice, off by default [D]."
        ),
        "second_check_required": (
            "Second-nurse dose check: on by default for ketamine, a high-alert drug; the "
            "medical director may switch it off with a written reason (issue #14) [D]; "
            "units are checked with hard stops [D]."
        ),
        "titration_instructions": (
            "Escalate as needed (K3, K10); slow or pause for side effects (K22 [P], K12)."
        ),
        "prn_medications": (
            "Ondansetron 4 mg IV for nausea or vomiting (K17 [V], dose [U]); "
            "clonidine 0.1 mg PO for hypertension per protocol (K22 [P], K12)."
        ),
        "alarm_thresholds": (
            "BP > 180/110 twice 5 min apart or > 200/120 once; HR > 120 for 5 min (K22 [P]); "
            "SpO2 and low HR/RR limits per docs/clinical/vitals-and-alarms.md (K19 [V]; low limits [U])."
        ),
    }
)

_TITRATION_TEXT = (
    "Start at the ordered mg/kg. The nurse may slow the pump (not below the order's "
    "minimum rate) or pause for hypertension, tachycardia or distress, and must not run "
    "faster than the calculated rate. A dose change between infusions is a new order, "
    "in steps of the protocol's titration step, not above the ceiling."
)

ONDANSETRON = PrnDefault(
    drug="Ondansetron",
    dose=Decimal(4),
    unit="mg",
    route="IV",
    indication="Nausea or vomiting",
    max_doses_per_session=1,
    source="K17",
)
CLONIDINE = PrnDefault(
    drug="Clonidine",
    dose=Decimal("0.1"),
    unit="mg",
    route="PO",
    indication="BP above the alarm limit on two readings",
    max_doses_per_session=1,
    source="K22 [P], K12",
)

_COMMON: dict[str, Any] = {
    "dose_mg_per_kg": Decimal("0.5"),
    "duration_minutes": 40,
    "dosing_weight_rule": "actual",
    "titration_step_mg_per_kg": Decimal("0.1"),
    "max_dose_mg_per_kg": Decimal("1.0"),
    "max_dose_mg": Decimal(100),
    "diluent_volume_ml": Decimal(100),
    "rate_min_percent": 25,
    "rate_max_percent": 100,
    "vitals_interval_minutes": 10,
    "recovery_vitals_interval_minutes": 15,
    "baseline_systolic_max_mmhg": 180,
    "baseline_diastolic_max_mmhg": 100,
    "baseline_systolic_caution_mmhg": 140,
    "baseline_diastolic_caution_mmhg": 90,
    "npo_solids_hours": 6,
    "npo_clear_liquids_hours": 2,
    "min_recovery_minutes": 30,
    "min_aldrete_total": 9,
    "min_moaas_score": 5,
    "follow_up_window_start_days": 10,
    "follow_up_window_end_days": 14,
    "booster_interval_days_min": 28,
    "booster_interval_days_max": 42,
    "pregnancy_test_required": False,
    "second_check_required": True,
    "titration_instructions": _TITRATION_TEXT,
    "prn_medications": (ONDANSETRON, CLONIDINE),
}

INDUCTION_DEFAULTS = ProtocolDefaults(
    kind=ProtocolKind.INDUCTION,
    name="IV ketamine induction series",
    infusion_count=6,
    infusions_per_week_min=2,
    infusions_per_week_max=3,
    series_window_days=21,
    min_days_between_infusions=1,
    **_COMMON,
)

BOOSTER_DEFAULTS = ProtocolDefaults(
    kind=ProtocolKind.BOOSTER,
    name="IV ketamine booster",
    infusion_count=1,
    infusions_per_week_min=1,
    infusions_per_week_max=1,
    series_window_days=1,
    min_days_between_infusions=1,
    **_COMMON,
)

DEFAULTS_BY_KIND: MappingProxyType[ProtocolKind, ProtocolDefaults] = MappingProxyType(
    {ProtocolKind.INDUCTION: INDUCTION_DEFAULTS, ProtocolKind.BOOSTER: BOOSTER_DEFAULTS}
)
