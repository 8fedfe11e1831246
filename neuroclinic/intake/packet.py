"""The intake packet: its sections, what each needs, and the facts the eligibility rules read.

Pure module: standard library only. The packet is stored as one JSON object
per section (`IntakePacket.sections`), saved as the patient goes; this module
says what is still missing and turns the answers into `IntakeFacts`.
Questionnaires (PHQ-9, GAD-7, MDQ, C-SSRS, PCL-5, AUDIT-C, DAST-10) are not
stored here: they are questionnaire responses in `measures`, and the caller
passes their results in.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from neuroclinic.intake.eligibility import (
    ADEQUATE_TRIAL_WEEKS,
    MEDICAL_HISTORY,
    IntakeFacts,
    Treatment,
    Trial,
    TrialEffect,
    count_failed_adequate_trials,
)
from neuroclinic.intake.interactions import flag_medications


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str


SECTIONS: tuple[Section, ...] = (
    Section(
        "about", "About you", "Your address and the treatment you are asking about."
    ),
    Section(
        "contacts",
        "Contacts and escort",
        "Who we call in an emergency, and who takes you home after an infusion.",
    ),
    Section(
        "medical",
        "Medical history",
        "Conditions that change whether a treatment is safe for you.",
    ),
    Section(
        "psychiatric",
        "Mental health history",
        "Diagnoses, hospital stays and treatments you have had.",
    ),
    Section(
        "trials",
        "Antidepressants you have tried",
        "Each medicine, the dose, how long, and whether it helped.",
    ),
    Section(
        "substance",
        "Alcohol and drugs",
        "Asked of everyone: it helps us keep treatment safe.",
    ),
    Section(
        "medications",
        "Current medications",
        "Everything you take now, including as-needed medicines.",
    ),
    Section("allergies", "Allergies", "Medicines or other things you are allergic to."),
    Section(
        "measurements",
        "Height, weight and blood pressure",
        "If you know them. We measure them at your visit too.",
    ),
    Section(
        "questionnaires",
        "Questionnaires",
        "Short questionnaires about how you have been feeling.",
    ),
    Section(
        "documents",
        "Documents",
        "A referral letter or records, if you have them (optional).",
    ),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
SECTION_TITLES = {s.key: s.title for s in SECTIONS}

# Sections a patient fills in by form, as opposed to questionnaires and uploads.
FORM_SECTIONS = tuple(
    k for k in SECTION_KEYS if k not in ("questionnaires", "documents")
)

YES_NO_UNSURE = (("yes", "Yes"), ("no", "No"), ("unsure", "Not sure"))
TREATMENT_CHOICES = (
    ("ketamine", "IV ketamine infusion"),
    ("tms", "TMS"),
    ("both", "Both / not sure yet"),
)

PSYCHIATRIC_QUESTIONS: dict[str, str] = {
    "psychosis_ever": "Have you ever had psychosis (hearing or seeing things others did not, or beliefs others found untrue)?",
    "mania_or_bipolar": "Have you ever been diagnosed with bipolar disorder, or had a spell of mania or hypomania?",
    "mania_current": "Are you in a spell of mania or hypomania right now (much less need for sleep, racing thoughts, unusually high energy or spending)?",
    "hospitalized": "Have you ever stayed in hospital for your mental health?",
    "suicide_attempt": "Have you ever tried to end your life?",
    "prior_ect": "Have you had ECT (electroconvulsive therapy)?",
    "prior_tms": "Have you had TMS before?",
    "prior_ketamine": "Have you had ketamine treatment before?",
    "prior_esketamine": "Have you had esketamine (Spravato) nasal spray?",
}

# Rows offered for list sections; more appear after each save.
LIST_ROWS = {"trials": 4, "medications": 6, "allergies": 3}
LIST_FIELDS = {
    "trials": ("drug", "dose", "weeks", "full_dose", "effect"),
    "medications": ("name", "dose"),
    "allergies": ("substance", "reaction"),
}
NONE_FLAGS = {
    "trials": "no_trials",
    "medications": "no_medications",
    "allergies": "no_allergies",
}

# Instruments asked at intake; optional ones do not hold up completion.
BASELINE_INSTRUMENTS = ("phq9", "gad7", "mdq", "cssrs-screener", "pcl5")
SUBSTANCE_INSTRUMENTS = ("audit-c", "dast10")
OPTIONAL_INSTRUMENTS = frozenset({"pcl5"})
INTAKE_INSTRUMENTS = BASELINE_INSTRUMENTS + SUBSTANCE_INSTRUMENTS


def yes_no(value: object) -> bool | None:
    """ "yes" / "no" as a bool; "unsure", blank or anything else is unknown."""
    return {"yes": True, "no": False}.get(str(value or ""))


def whole_number(value: object) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def rows(data: Mapping[str, Any], section: str) -> list[dict[str, str]]:
    """The non-empty rows of a list section, in order."""
    stored = data.get("rows", [])
    if not isinstance(stored, list):
        return []
    first = LIST_FIELDS[section][0]
    return [
        {k: str(row.get(k, "") or "") for k in LIST_FIELDS[section]}
        for row in stored
        if isinstance(row, dict) and str(row.get(first, "") or "").strip()
    ]


def _missing_yes_no(data: Mapping[str, Any], questions: Mapping[str, str]) -> list[str]:
    return [
        label
        for key, label in questions.items()
        if data.get(key) not in ("yes", "no", "unsure")
    ]


def missing_fields(section: str, data: Mapping[str, Any]) -> list[str]:
    """What a form section still needs, in words a patient understands. Empty when complete."""
    if section == "about":
        labels = {
            "address_line1": "Street address",
            "city": "City",
            "state": "State",
            "postal_code": "ZIP code",
            "phone": "Phone number",
            "treatment": "The treatment you are asking about",
        }
        return [
            label for key, label in labels.items() if not str(data.get(key, "")).strip()
        ]
    if section == "contacts":
        labels = {
            "emergency_name": "Emergency contact's name",
            "emergency_phone": "Emergency contact's phone",
            "escort_name": "Escort's name",
            "escort_phone": "Escort's phone",
        }
        return [
            label for key, label in labels.items() if not str(data.get(key, "")).strip()
        ]
    if section == "medical":
        missing = _missing_yes_no(data, MEDICAL_HISTORY)
        if data.get("hypertension") == "yes" and data.get(
            "hypertension_controlled"
        ) not in ("yes", "no", "unsure"):
            missing.append("Whether your blood pressure is controlled")
        return missing
    if section == "psychiatric":
        missing = _missing_yes_no(data, PSYCHIATRIC_QUESTIONS)
        if data.get("psychosis_ever") == "yes" and data.get(
            "psychosis_past_year"
        ) not in ("yes", "no", "unsure"):
            missing.append("Whether you had psychosis in the past year")
        return missing
    if section in LIST_FIELDS:
        found = rows(data, section)
        if not found and not data.get(NONE_FLAGS[section]):
            return ["At least one entry, or tick that there are none"]
        if section == "trials":
            return [
                f"How many weeks, and the effect, for {row['drug']}"
                for row in found
                if whole_number(row["weeks"]) is None
                or row["effect"] not in TrialEffect
            ]
        return []
    if section == "substance":
        return (
            []
            if data.get("ketamine_misuse") in ("yes", "no")
            else ["Whether you have used ketamine other than as prescribed"]
        )
    if section == "measurements":
        missing = []
        if whole_number(data.get("height_in")) is None and not data.get(
            "height_unknown"
        ):
            missing.append("Height (or tick that you don't know)")
        if whole_number(data.get("weight_lb")) is None and not data.get(
            "weight_unknown"
        ):
            missing.append("Weight (or tick that you don't know)")
        if (
            whole_number(data.get("bp_systolic")) is None
            or whole_number(data.get("bp_diastolic")) is None
        ) and not data.get("bp_unknown"):
            missing.append("Blood pressure (or tick that you don't know)")
        return missing
    return []


def trials_from(data: Mapping[str, Any]) -> list[Trial]:
    trials = []
    for row in rows(data, "trials"):
        effect = row["effect"]
        trials.append(
            Trial(
                drug=row["drug"],
                dose=row["dose"],
                weeks=whole_number(row["weeks"]),
                full_dose=yes_no(row["full_dose"]),
                effect=TrialEffect(effect) if effect in TrialEffect else None,
            )
        )
    return trials


def bmi(height_in: int | None, weight_lb: int | None) -> float | None:
    """Body-mass index from inches and pounds (703 x lb / in^2)."""
    if not height_in or not weight_lb:
        return None
    try:
        value = Decimal(703) * weight_lb / (Decimal(height_in) ** 2)
    except InvalidOperation:
        return None
    return float(round(value, 1))


def age_on(birth_date: date, on: date) -> int:
    return (
        on.year
        - birth_date.year
        - ((on.month, on.day) < (birth_date.month, birth_date.day))
    )


@dataclass(frozen=True)
class ScreenResults:
    """Questionnaire results the rules need; None where not completed."""

    audit_c_positive: bool | None = None
    dast10_total: int | None = None
    mdq_positive: bool | None = None
    suicide_screen_positive: bool | None = None
    # C-SSRS screener triage high (intent, a plan, or recent behaviour): issue #14 item 6.
    suicidal_intent_current: bool | None = None


def facts_from(
    sections: Mapping[str, Mapping[str, Any]],
    *,
    age_years: int | None,
    screens: ScreenResults,
    complete: Sequence[str],
    min_weeks: int = ADEQUATE_TRIAL_WEEKS,
) -> IntakeFacts:
    """The facts the eligibility rules read, from the packet and the questionnaires.

    A list section counts only once it is complete (a half-typed medication
    list says nothing about what is absent from it).
    """
    about = sections.get("about", {})
    medical = sections.get("medical", {})
    psychiatric = sections.get("psychiatric", {})
    substance = sections.get("substance", {})
    measurements = sections.get("measurements", {})
    treatment = about.get("treatment")
    treatments = {
        "ketamine": frozenset({Treatment.KETAMINE}),
        "tms": frozenset({Treatment.TMS}),
    }.get(str(treatment), frozenset({Treatment.KETAMINE, Treatment.TMS}))

    failed = None
    if "trials" in complete:
        failed = count_failed_adequate_trials(
            trials_from(sections.get("trials", {})), min_weeks=min_weeks
        )
    flags = None
    if "medications" in complete:
        names = [
            row["name"] for row in rows(sections.get("medications", {}), "medications")
        ]
        flags = frozenset(str(flag) for flag in flag_medications(names))
    allergy = None
    if "allergies" in complete:
        allergy = any(
            "ketamine" in row["substance"].lower()
            or "ketalar" in row["substance"].lower()
            for row in rows(sections.get("allergies", {}), "allergies")
        )
    psychosis_ever = yes_no(psychiatric.get("psychosis_ever"))
    return IntakeFacts(
        treatments=treatments,
        age_years=age_years,
        history={key: yes_no(medical.get(key)) for key in MEDICAL_HISTORY},
        hypertension_controlled=yes_no(medical.get("hypertension_controlled")),
        psychosis_ever=psychosis_ever,
        psychosis_past_year=False
        if psychosis_ever is False
        else yes_no(psychiatric.get("psychosis_past_year")),
        mania_or_bipolar=yes_no(psychiatric.get("mania_or_bipolar")),
        mania_current=yes_no(psychiatric.get("mania_current")),
        suicidal_intent_current=screens.suicidal_intent_current,
        failed_adequate_trials=failed,
        medication_flags=flags,
        ketamine_allergy=allergy,
        ketamine_misuse=yes_no(substance.get("ketamine_misuse")),
        audit_c_positive=screens.audit_c_positive,
        dast10_total=screens.dast10_total,
        mdq_positive=screens.mdq_positive,
        suicide_screen_positive=screens.suicide_screen_positive,
        bp_systolic=whole_number(measurements.get("bp_systolic")),
        bp_diastolic=whole_number(measurements.get("bp_diastolic")),
        bmi=bmi(
            whole_number(measurements.get("height_in")),
            whole_number(measurements.get("weight_lb")),
        ),
    )
