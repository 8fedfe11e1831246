"""Recovery after an infusion: modified Aldrete score, MOAA/S labels, discharge readiness.

Sources (ids expand in docs/sources.md):
- Modified Aldrete score (Aldrete 1995; table as in World J Gastroenterol 2015),
  K19 [V]: five items scored 0-2 (activity, respiration, circulation,
  consciousness, SpO2), total 0-10, ">= 9 commonly required" for discharge.
- MOAA/S, the Modified Observer's Assessment of Alertness/Sedation scale, 0-5:
  Chernik DA et al., J Clin Psychopharmacol 1990;10(4):244-251, labels as tabulated
  in later trials (e.g. BMC Anesthesiol 2022, table 2). Cited in full here: it has no
  id in docs/sources.md yet, and the labels were checked against secondary tables
  only [S].
- Discharge: the ketamine label releases outpatients only after complete recovery and
  accompanied by a responsible adult (K11 [V]); ACEP asks for a return to pre-treatment
  verbalization, awareness and purposeful movement (K17 [V]); the esketamine analog
  observes >= 2 h (K20 [V/S]). No source gives a minimum recovery time for IV ketamine
  for depression, so `min_recovery_minutes` has no default: the clinic sets it.

Units: points, minutes, mmHg, %.

discharge_readiness() lists unmet criteria; a named clinician still decides and signs
the discharge: the software supports the decision, a clinician makes it. The rules in
prose: docs/clinical/recovery.md.

Pure module: standard library only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

ALDRETE_ITEM_MAX = 2
ALDRETE_MAX_TOTAL = 10
# ">= 9 commonly required" (K19 [V]); a clinic setting.
ALDRETE_DISCHARGE_MIN_TOTAL = 9
# Circulation item: BP within 20 mmHg of the pre-infusion level scores 2, within
# 20-50 mmHg scores 1, more than 50 mmHg away scores 0 (K19 [V]).
ALDRETE_CIRCULATION_FULL_WITHIN_MMHG = 20
ALDRETE_CIRCULATION_PARTIAL_WITHIN_MMHG = 50
# SpO2 item: > 92% on room air scores 2; oxygen needed to keep > 90% scores 1;
# < 90% even with oxygen scores 0 (K19 [V]).
ALDRETE_SPO2_FULL_ABOVE_PERCENT = 92
ALDRETE_SPO2_PARTIAL_ABOVE_PERCENT = 90

MOAAS_MAX = 5
# 5 = responds readily to name in a normal tone: back to pre-treatment awareness,
# the closest MOAA/S match to ACEP's criterion (K17) [D].
MOAAS_DISCHARGE_MIN = 5


class AldreteItem(StrEnum):
    ACTIVITY = "activity"
    RESPIRATION = "respiration"
    CIRCULATION = "circulation"
    CONSCIOUSNESS = "consciousness"
    SPO2 = "spo2"


# Criterion text per item, indexed by points (0, 1, 2); K19 [V].
ALDRETE_CRITERIA: Mapping[AldreteItem, tuple[str, str, str]] = MappingProxyType(
    {
        AldreteItem.ACTIVITY: (
            "Unable to move any extremity",
            "Moves 2 extremities voluntarily or on command",
            "Moves 4 extremities voluntarily or on command",
        ),
        AldreteItem.RESPIRATION: (
            "Apneic",
            "Dyspnea or limited breathing",
            "Breathes deeply and coughs freely",
        ),
        AldreteItem.CIRCULATION: (
            "BP more than 50 mmHg from the pre-infusion level",
            "BP within 20-50 mmHg of the pre-infusion level",
            "BP within 20 mmHg of the pre-infusion level",
        ),
        AldreteItem.CONSCIOUSNESS: (
            "Not responding",
            "Arousable on calling",
            "Fully awake",
        ),
        AldreteItem.SPO2: (
            "SpO2 below 90% even with oxygen",
            "Needs oxygen to keep SpO2 above 90%",
            "SpO2 above 92% on room air",
        ),
    }
)

# Chernik 1990 (MOAA/S), indexed by score [S].
MOAAS_LABELS: Mapping[int, str] = MappingProxyType(
    {
        5: "Responds readily to name spoken in normal tone",
        4: "Lethargic response to name spoken in normal tone",
        3: "Responds only after name is called loudly and/or repeatedly",
        2: "Responds only after mild prodding or shaking",
        1: "Responds only after painful trapezius squeeze",
        0: "Does not respond to painful trapezius squeeze",
    }
)


class DischargeCriterion(StrEnum):
    ALDRETE = "aldrete"
    RECOVERY_TIME = "recovery_time"
    ESCORT = "escort"
    SEDATION = "sedation"


class RecoveryInputError(ValueError):
    """An input the recovery rules refuse; `field` names the offending argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AldreteScore:
    activity: int
    respiration: int
    circulation: int
    consciousness: int
    spo2: int
    total: int


@dataclass(frozen=True)
class Readiness:
    ready: bool  # a suggestion: the clinician decides and signs
    unmet: tuple[
        str, ...
    ]  # one sentence per unmet criterion, for the screen and the note
    unmet_criteria: tuple[DischargeCriterion, ...]  # the same, as codes


def score_aldrete(
    *, activity: int, respiration: int, circulation: int, consciousness: int, spo2: int
) -> AldreteScore:
    items = {
        "activity": activity,
        "respiration": respiration,
        "circulation": circulation,
        "consciousness": consciousness,
        "spo2": spo2,
    }
    for field, points in items.items():
        _require_points(points, field=field, maximum=ALDRETE_ITEM_MAX)
    return AldreteScore(
        activity=activity,
        respiration=respiration,
        circulation=circulation,
        consciousness=consciousness,
        spo2=spo2,
        total=sum(items.values()),
    )


def aldrete_circulation_points(
    *, systolic_mmhg: int | Decimal, baseline_systolic_mmhg: int | Decimal
) -> int:
    """Circulation item from the systolic BP and its pre-infusion value.

    The source says "BP"; systolic is used here [D]. Exactly 20 mmHg away still
    scores 2 and exactly 50 mmHg scores 1 ("within").
    """
    difference = abs(
        _number(systolic_mmhg, field="systolic_mmhg")
        - _number(baseline_systolic_mmhg, field="baseline_systolic_mmhg")
    )
    if difference <= ALDRETE_CIRCULATION_FULL_WITHIN_MMHG:
        return 2
    if difference <= ALDRETE_CIRCULATION_PARTIAL_WITHIN_MMHG:
        return 1
    return 0


def aldrete_spo2_points(
    *, spo2_percent: int | Decimal, on_supplemental_oxygen: bool
) -> int:
    """SpO2 item.

    The source leaves two gaps, filled here [D]: 91-92% on room air scores 1 (the
    patient keeps > 90% without help, which is no worse than needing oxygen for it);
    exactly 90% scores 0 (it is not "above 90%").
    """
    spo2 = _number(spo2_percent, field="spo2_percent")
    if not on_supplemental_oxygen and spo2 > ALDRETE_SPO2_FULL_ABOVE_PERCENT:
        return 2
    if spo2 > ALDRETE_SPO2_PARTIAL_ABOVE_PERCENT:
        return 1
    return 0


def moaas_label(score: int) -> str:
    _require_points(score, field="moaas_score", maximum=MOAAS_MAX)
    return MOAAS_LABELS[score]


def discharge_readiness(
    *,
    aldrete_total: int,
    minutes_since_infusion_end: int | Decimal,
    min_recovery_minutes: int | Decimal,
    escort_confirmed: bool,
    moaas_score: int | None = None,
    min_aldrete_total: int = ALDRETE_DISCHARGE_MIN_TOTAL,
    min_moaas_score: int = MOAAS_DISCHARGE_MIN,
) -> Readiness:
    """Which discharge criteria are met. `moaas_score=None` means not assessed, and
    then sedation is not a criterion; every other criterion always applies.
    """
    _require_points(aldrete_total, field="aldrete_total", maximum=ALDRETE_MAX_TOTAL)
    _require_points(
        min_aldrete_total, field="min_aldrete_total", maximum=ALDRETE_MAX_TOTAL
    )
    _require_points(min_moaas_score, field="min_moaas_score", maximum=MOAAS_MAX)
    elapsed = _number(minutes_since_infusion_end, field="minutes_since_infusion_end")
    required = _number(min_recovery_minutes, field="min_recovery_minutes")
    if elapsed < 0:
        raise RecoveryInputError(
            "minutes_since_infusion_end",
            "minutes_since_infusion_end must not be negative",
        )
    if required < 0:
        raise RecoveryInputError(
            "min_recovery_minutes", "min_recovery_minutes must not be negative"
        )

    unmet: list[tuple[DischargeCriterion, str]] = []
    if aldrete_total < min_aldrete_total:
        unmet.append(
            (
                DischargeCriterion.ALDRETE,
                f"Modified Aldrete score {aldrete_total} is below {min_aldrete_total}.",
            )
        )
    if elapsed < required:
        unmet.append(
            (
                DischargeCriterion.RECOVERY_TIME,
                f"{elapsed} of the required {required} minutes since the infusion ended.",
            )
        )
    # Only True confirms: a stray truthy value such as "false" must not.
    if escort_confirmed is not True:
        unmet.append(
            (
                DischargeCriterion.ESCORT,
                "No responsible adult escort confirmed (ketamine label, K11).",
            )
        )
    if moaas_score is not None:
        _require_points(moaas_score, field="moaas_score", maximum=MOAAS_MAX)
        if moaas_score < min_moaas_score:
            unmet.append(
                (
                    DischargeCriterion.SEDATION,
                    f"MOAA/S {moaas_score} ({MOAAS_LABELS[moaas_score]}) is below "
                    f"{min_moaas_score}.",
                )
            )
    return Readiness(
        ready=not unmet,
        unmet=tuple(message for _, message in unmet),
        unmet_criteria=tuple(criterion for criterion, _ in unmet),
    )


def _require_points(value: object, *, field: str, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecoveryInputError(
            field, f"{field} must be an int, not {type(value).__name__}"
        )
    if not 0 <= value <= maximum:
        raise RecoveryInputError(field, f"{field} must be 0-{maximum}, not {value}")


def _number(value: object, *, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RecoveryInputError(
            field, f"{field} must be an int or Decimal, not {type(value).__name__}"
        )
    number = Decimal(value)
    if not number.is_finite():
        raise RecoveryInputError(field, f"{field} must be a finite number")
    return number
