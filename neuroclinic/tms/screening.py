"""TMS safety screening: the one-time screen before a course and the daily pre-session check.

Sources (ids in docs/sources.md):
- The screening topics follow the IFCN questionnaire (Rossi 2009, revised 2011; still
  valid in the 2021 update): a "yes" is not in itself a contraindication but calls for
  a risk-benefit review by the physician (T6). The exact item wording is not ours to
  reproduce; the topics are.
- Device-label-style contraindications are exclusions: non-removable conductive or
  ferromagnetic metal in or near the head (aneurysm clips, plates, cochlear implants)
  and implants controlled by physiological signals (pacemaker, defibrillator, vagus
  nerve or deep brain stimulator); braces and dental fillings are acceptable (T9 [S]).
- Cautions that need the prescriber's review: seizure history or epilepsy in the
  family, seizure-threshold-lowering medicines, raised intracranial pressure,
  pregnancy (T9 [S]); the other IFCN topics are findings for the same review (T6).
- The daily pre-session check (medication changes, sleep, alcohol and drugs, metal
  removed, ear protection) is one clinic's practice (T11 [P]); which answers are hard
  stops is our design [D], see docs/tms.md. A medication change can move the motor
  threshold (T8c), so it prompts a re-determination.

Pure module: standard library only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    EXCLUSION = "exclusion"  # refuses a course; cannot be overridden here
    CAUTION = "caution"  # the prescriber decides, with a signed decision
    FINDING = "finding"  # an IFCN topic answered yes: the same review


class Outcome(StrEnum):
    CLEAR = "clear"
    NEEDS_REVIEW = "needs_review"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class ScreenItem:
    key: str
    question: str
    kind: Kind


# One row per topic; the order is the order on the form. T6 topics, T9 classification.
SCREEN_ITEMS: tuple[ScreenItem, ...] = (
    ScreenItem(
        "metal_in_head",
        "Non-removable metal in or near the head (aneurysm clips, plates, shrapnel, "
        "stents; braces and dental fillings do not count)?",
        Kind.EXCLUSION,
    ),
    ScreenItem("cochlear_implant", "A cochlear implant?", Kind.EXCLUSION),
    ScreenItem(
        "implanted_stimulator",
        "An implanted neurostimulator (deep brain, vagus nerve, epidural or spinal)?",
        Kind.EXCLUSION,
    ),
    ScreenItem(
        "cardiac_device",
        "A cardiac pacemaker, defibrillator or intracardiac lines?",
        Kind.EXCLUSION,
    ),
    ScreenItem("medication_pump", "An implanted medication pump?", Kind.EXCLUSION),
    ScreenItem("epilepsy", "Epilepsy or a seizure ever?", Kind.CAUTION),
    ScreenItem("family_epilepsy", "Epilepsy in the family?", Kind.CAUTION),
    ScreenItem(
        "threshold_lowering_medication",
        "Medicines that may lower the seizure threshold?",
        Kind.CAUTION,
    ),
    ScreenItem(
        "raised_intracranial_pressure",
        "Raised intracranial pressure, a brain lesion or stroke?",
        Kind.CAUTION,
    ),
    ScreenItem("pregnancy", "Pregnant, or could be?", Kind.CAUTION),
    ScreenItem("fainting", "Fainting or syncope?", Kind.FINDING),
    ScreenItem("head_trauma", "Head injury with loss of consciousness?", Kind.FINDING),
    ScreenItem("hearing", "Hearing problems or ringing in the ears?", Kind.FINDING),
    ScreenItem(
        "spinal_surgery",
        "Spinal surgery, or spinal or ventricular derivations?",
        Kind.FINDING,
    ),
    ScreenItem("prior_tms_problem", "A problem with TMS before?", Kind.FINDING),
    ScreenItem("mri_problem", "A problem with MRI before?", Kind.FINDING),
)
ITEMS_BY_KEY = {item.key: item for item in SCREEN_ITEMS}


class ScreenInputError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


@dataclass(frozen=True)
class ScreenResult:
    outcome: Outcome
    exclusions: tuple[str, ...]
    cautions: tuple[str, ...]  # cautions and findings, in form order

    @property
    def labels(self) -> list[str]:
        return [ITEMS_BY_KEY[k].question for k in (*self.exclusions, *self.cautions)]


def evaluate_screen(answers: Mapping[str, object]) -> ScreenResult:
    """Every topic must be answered yes or no; any exclusion excludes, any other yes needs review."""
    errors: dict[str, list[str]] = {}
    for item in SCREEN_ITEMS:
        if not isinstance(answers.get(item.key), bool):
            errors[item.key] = ["Answer yes or no."]
    unknown = sorted(set(answers) - set(ITEMS_BY_KEY))
    if unknown:
        errors["answers"] = [f"Unknown question: {', '.join(unknown)}."]
    if errors:
        raise ScreenInputError(errors)
    yes = [item for item in SCREEN_ITEMS if answers[item.key] is True]
    exclusions = tuple(i.key for i in yes if i.kind is Kind.EXCLUSION)
    cautions = tuple(i.key for i in yes if i.kind is not Kind.EXCLUSION)
    if exclusions:
        outcome = Outcome.EXCLUDED
    elif cautions:
        outcome = Outcome.NEEDS_REVIEW
    else:
        outcome = Outcome.CLEAR
    return ScreenResult(outcome, exclusions, cautions)


# The daily pre-session check (T11 [P]); hard stops are our design [D].
@dataclass(frozen=True)
class DailyItem:
    key: str
    question: str
    stop_when: bool  # the answer that stops the session (or prompts review)
    hard_stop: bool
    message: str


DAILY_ITEMS: tuple[DailyItem, ...] = (
    DailyItem(
        "metal_removed",
        "All metal and magnetic objects removed, none within 30 cm of the coil?",
        False,
        True,
        "Remove metal and magnetic objects before treatment.",
    ),
    DailyItem(
        "ear_protection",
        "Earplugs in place?",
        False,
        True,
        "Ear protection is required for every session.",
    ),
    DailyItem(
        "alcohol_or_drugs",
        "Alcohol or recreational drugs since the last session?",
        True,
        True,
        "Alcohol or drugs raise seizure risk: no treatment today without the physician.",
    ),
    DailyItem(
        "medication_change",
        "Any change in medicines since the last session?",
        True,
        False,
        "A medication change can move the motor threshold: ask the physician whether to re-determine it.",
    ),
    DailyItem(
        "poor_sleep",
        "Much less sleep than usual last night?",
        True,
        False,
        "Sleep loss lowers the seizure threshold: tell the supervising physician.",
    ),
)
DAILY_BY_KEY = {item.key: item for item in DAILY_ITEMS}


@dataclass(frozen=True)
class DailyResult:
    hard_stops: tuple[str, ...]
    cautions: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def may_proceed(self) -> bool:
        return not self.hard_stops


def evaluate_daily_check(answers: Mapping[str, object]) -> DailyResult:
    errors = {
        item.key: ["Answer yes or no."]
        for item in DAILY_ITEMS
        if not isinstance(answers.get(item.key), bool)
    }
    if errors:
        raise ScreenInputError(errors)
    flagged = [item for item in DAILY_ITEMS if answers[item.key] is item.stop_when]
    return DailyResult(
        hard_stops=tuple(i.key for i in flagged if i.hard_stop),
        cautions=tuple(i.key for i in flagged if not i.hard_stop),
        messages=tuple(i.message for i in flagged),
    )
