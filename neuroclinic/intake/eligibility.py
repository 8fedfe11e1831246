"""Eligibility rules for IV ketamine and TMS: a pure engine over the intake facts.

Pure module: standard library only. It finds; a prescriber decides. Each rule
has a cited default from the ketamine labels and guidance (K2, K6, K6b, K7, K11,
K11c, K14, K15, K16b, K20, K21), the measurement sources (M2, M10, M12, M13,
M14, C1) or TMS safety screening (T6, T8c, T9) (docs/sources.md); a clinic's
medical director may switch a rule off, change its severity or its numbers, and
every such change is a new, numbered version (`EligibilityRuleSet`) that a
decision keeps.

Findings come in three kinds:
- exclusion: a contraindication in a label or a default the clinic treats as one;
- caution: needs clearance from another provider or the prescriber's judgement;
- missing: the intake does not yet say what a rule needs to know.

Abbreviations: BP blood pressure, AVM arteriovenous malformation, ICP
intracranial pressure, TRD treatment-resistant depression, SUD substance use
disorder, MDQ Mood Disorder Questionnaire, C-SSRS Columbia Suicide Severity
Rating Scale. Each rule's `source` names its source ids and how well each
statement is checked: [V] verified against the source, [S] a secondary source
only, [U] unverified, [D] a design default (docs/clinical/eligibility.md).
Every default with its source in prose: docs/clinical/eligibility.md.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

DEFAULTS_VERSION = "2026.2"

# A trial of an antidepressant counts as adequate after this many weeks at the
# dose the prescriber intended. TRD is defined by "adequate" trials (K21)
# without a number of weeks; six is a common convention [U], so it is a clinic
# setting (the `trd_indication` rule's `min_weeks`).
ADEQUATE_TRIAL_WEEKS = 6


class Severity(StrEnum):
    EXCLUSION = "exclusion"
    CAUTION = "caution"
    MISSING = "missing"


class Treatment(StrEnum):
    KETAMINE = "ketamine"
    TMS = "tms"


class NextStep(StrEnum):
    NONE = ""
    CLEARANCE = "clearance"  # a note from another provider (cardiology, neurology, obstetrics...)
    JUDGEMENT = "judgement"  # the prescriber weighs benefit and risk


# Trials -------------------------------------------------------------------------


class TrialEffect(StrEnum):
    HELPED_A_LOT = "helped_a_lot"
    HELPED_A_LITTLE = "helped_a_little"
    NO_HELP = "no_help"
    WORSE = "worse"
    SIDE_EFFECTS = "side_effects"  # stopped because of side effects


TRIAL_EFFECT_LABELS = {
    TrialEffect.HELPED_A_LOT: "Helped a lot",
    TrialEffect.HELPED_A_LITTLE: "Helped a little",
    TrialEffect.NO_HELP: "Did not help",
    TrialEffect.WORSE: "Made me feel worse",
    TrialEffect.SIDE_EFFECTS: "Stopped because of side effects",
}

# Less than a clear response counts as not responding (a response is a >= 50%
# reduction, K5, K21, K24; "helped a little" is the patient's word for partial).
FAILED_EFFECTS = frozenset(
    {TrialEffect.HELPED_A_LITTLE, TrialEffect.NO_HELP, TrialEffect.WORSE}
)


@dataclass(frozen=True)
class Trial:
    drug: str
    dose: str
    weeks: int | None
    full_dose: bool | None  # reached the dose the prescriber intended (None: not sure)
    effect: TrialEffect | None


def is_adequate(trial: Trial, *, min_weeks: int = ADEQUATE_TRIAL_WEEKS) -> bool:
    """At least `min_weeks` weeks, and not known to have stayed below the intended dose."""
    return (
        trial.weeks is not None
        and trial.weeks >= min_weeks
        and trial.full_dose is not False
    )


def count_failed_adequate_trials(
    trials: Sequence[Trial], *, min_weeks: int = ADEQUATE_TRIAL_WEEKS
) -> int:
    """Adequate trials without a clear response (TRD is >= 2 of these, K21)."""
    return sum(
        1
        for trial in trials
        if is_adequate(trial, min_weeks=min_weeks) and trial.effect in FAILED_EFFECTS
    )


# Facts --------------------------------------------------------------------------

# Medical history items asked at intake, with their patient-facing wording.
MEDICAL_HISTORY: dict[str, str] = {
    "hypertension": "High blood pressure (hypertension)",
    "heart_disease": "Heart disease (heart attack, heart failure, angina, irregular heartbeat)",
    "aneurysm_avm": "An aneurysm or an arteriovenous malformation (AVM)",
    "stroke_bleed": "A stroke, or bleeding in or around the brain",
    "seizures": "Seizures or epilepsy",
    "raised_icp": "Raised pressure inside the skull (for example after a head injury or a shunt)",
    "liver_disease": "Liver disease",
    "thyroid_disease": "Thyroid disease",
    "bladder_problems": "Bladder problems (pain, frequent urination, cystitis)",
    "pregnant_or_breastfeeding": "Pregnant, trying to become pregnant, or breastfeeding",
    "glaucoma": "Glaucoma, or raised pressure in the eye",
    "recent_mi_angina": "A heart attack in the past 6 months, or chest pain (angina) that is new, getting worse or comes at rest",
    "preeclampsia": "Pre-eclampsia or eclampsia (high blood pressure in pregnancy) now or in this pregnancy",
    "sleep_apnoea_airway": "Sleep apnoea that is not treated, or been told you have a difficult airway (hard to put a breathing tube in)",
    "metal_in_head": "Metal in or near the head (clips, plates, shrapnel; not dental fillings)",
    "implanted_device": "An implanted device (pacemaker, defibrillator, nerve stimulator, cochlear implant, medication pump)",
}


@dataclass(frozen=True)
class IntakeFacts:
    """What the rules read. None means the intake does not say (yet)."""

    treatments: frozenset[Treatment] = frozenset({Treatment.KETAMINE})
    age_years: int | None = None
    history: Mapping[str, bool | None] = field(default_factory=dict)
    hypertension_controlled: bool | None = None
    psychosis_ever: bool | None = None
    psychosis_past_year: bool | None = None
    mania_or_bipolar: bool | None = None
    mania_current: bool | None = None
    suicidal_intent_current: bool | None = None
    failed_adequate_trials: int | None = None
    medication_flags: frozenset[str] | None = None
    ketamine_allergy: bool | None = None
    ketamine_misuse: bool | None = None
    audit_c_positive: bool | None = None
    dast10_total: int | None = None
    mdq_positive: bool | None = None
    suicide_screen_positive: bool | None = None
    bp_systolic: int | None = None
    bp_diastolic: int | None = None
    bmi: float | None = None

    def value(self, name: str) -> Any:
        if name.startswith("history."):
            return self.history.get(name.removeprefix("history."))
        return getattr(self, name)


FACT_LABELS: dict[str, str] = {
    **{f"history.{key}": label for key, label in MEDICAL_HISTORY.items()},
    "age_years": "Age",
    "hypertension_controlled": "Whether high blood pressure is controlled",
    "psychosis_ever": "History of psychosis",
    "psychosis_past_year": "Psychosis in the past year",
    "mania_or_bipolar": "Mania or bipolar disorder",
    "mania_current": "Mania or hypomania now",
    "suicidal_intent_current": "Suicidal intent or plan now (C-SSRS screener)",
    "failed_adequate_trials": "Prior antidepressant trials",
    "medication_flags": "Current medications",
    "ketamine_allergy": "Allergies",
    "ketamine_misuse": "Ketamine use other than as prescribed",
    "audit_c_positive": "AUDIT-C (alcohol)",
    "dast10_total": "DAST-10 (drugs)",
    "mdq_positive": "MDQ (bipolar screen)",
    "suicide_screen_positive": "Suicide risk screen (PHQ-9 item 9, C-SSRS)",
    "bp_systolic": "Blood pressure",
    "bp_diastolic": "Blood pressure",
    "bmi": "Height and weight",
}


def _yes(value: object) -> str:
    return "Yes" if value else "No"


# Rules --------------------------------------------------------------------------

Check = Callable[[IntakeFacts, Mapping[str, int]], str | None]


@dataclass(frozen=True)
class Rule:
    """One rule. `check` returns the patient's value when the rule applies, else None.

    `needs` are the facts it reads: while any is unknown the rule reports
    "missing" instead of guessing.
    """

    id: str
    title: str
    severity: Severity
    treatments: frozenset[Treatment]
    needs: tuple[str, ...]
    check: Check
    source: str
    action: NextStep = NextStep.NONE
    params: Mapping[str, int] = field(default_factory=dict)
    enabled: bool = True


def _history(key: str) -> Check:
    def check(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
        return "Yes" if facts.history.get(key) else None

    return check


def _flag(flag: str) -> Check:
    def check(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
        flags = facts.medication_flags or frozenset()
        return f"Takes a medicine flagged {flag}" if flag in flags else None

    return check


def _bp_over(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
    assert facts.bp_systolic is not None
    assert facts.bp_diastolic is not None
    if (
        facts.bp_systolic > params["systolic_max"]
        or facts.bp_diastolic > params["diastolic_max"]
    ):
        return f"{facts.bp_systolic}/{facts.bp_diastolic} mmHg (reported)"
    return None


def _uncontrolled_hypertension(
    facts: IntakeFacts, params: Mapping[str, int]
) -> str | None:
    if facts.history.get("hypertension") and facts.hypertension_controlled is False:
        return "High blood pressure, not controlled (reported)"
    return None


def _hypertension(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
    if facts.history.get("hypertension"):
        controlled = {True: "controlled", False: "not controlled", None: "not sure"}
        return f"Yes ({controlled[facts.hypertension_controlled]})"
    return None


def _trd(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
    failed = facts.failed_adequate_trials
    assert failed is not None
    if failed < params["min_failed_trials"]:
        return f"{failed} failed adequate trial(s) (adequate: >= {params['min_weeks']} weeks)"
    return None


def _under_age(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
    assert facts.age_years is not None
    return (
        f"{facts.age_years} years" if facts.age_years < params["minimum_age"] else None
    )


def _substance(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
    parts = []
    if facts.audit_c_positive:
        parts.append("AUDIT-C positive")
    if facts.dast10_total is not None and facts.dast10_total >= params["dast10_min"]:
        parts.append(f"DAST-10 {facts.dast10_total}")
    return ", ".join(parts) or None


def _bmi(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
    assert facts.bmi is not None
    return f"BMI {facts.bmi:.1f}" if facts.bmi >= params["bmi_min"] else None


def _is_true(name: str, shown: str) -> Check:
    def check(facts: IntakeFacts, params: Mapping[str, int]) -> str | None:
        return shown if getattr(facts, name) else None

    return check


K = frozenset({Treatment.KETAMINE})
T = frozenset({Treatment.TMS})
BOTH = frozenset({Treatment.KETAMINE, Treatment.TMS})
E, C = Severity.EXCLUSION, Severity.CAUTION

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "minimum_age",
        "Adults only",
        E,
        BOTH,
        ("age_years",),
        _under_age,
        "CANMAT recommendations are for adults with MDD (K7) [V]; the age limit is a design default [D]",
        params={"minimum_age": 18},
    ),
    Rule(
        "ketamine_hypersensitivity",
        "Known hypersensitivity to ketamine",
        E,
        K,
        ("ketamine_allergy",),
        _is_true("ketamine_allergy", "Allergy to ketamine listed"),
        "Ketamine label contraindication (K11) [S]",
    ),
    Rule(
        "blood_pressure_high",
        "Blood pressure above the clinic's limit",
        E,
        K,
        ("bp_systolic", "bp_diastolic"),
        _bp_over,
        "Uncontrolled hypertension > 180/100 at rest (Swiss label, K11c) [V]; significant BP elevation a serious hazard (K11) [S]",
        action=NextStep.CLEARANCE,
        params={"systolic_max": 180, "diastolic_max": 100},
    ),
    Rule(
        "hypertension_uncontrolled",
        "High blood pressure that is not controlled",
        E,
        K,
        ("history.hypertension",),
        _uncontrolled_hypertension,
        "Uncontrolled/untreated hypertension (K11c) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "hypertension_history",
        "History of high blood pressure",
        C,
        K,
        ("history.hypertension",),
        _hypertension,
        "BP surges more likely with a history of hypertension (K14, K15) [V]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "aneurysm_avm",
        "Aneurysmal vascular disease or arteriovenous malformation",
        E,
        K,
        ("history.aneurysm_avm",),
        _history("aneurysm_avm"),
        "Esketamine label contraindication, an analog (K20) [V]",
    ),
    Rule(
        "intracranial_bleed",
        "Stroke or intracerebral haemorrhage",
        E,
        K,
        ("history.stroke_bleed",),
        _history("stroke_bleed"),
        "History of intracerebral haemorrhage (K20) [V]; prior cerebrovascular insult (K11c) [V]",
    ),
    Rule(
        "heart_disease",
        "Heart disease",
        C,
        K,
        ("history.heart_disease",),
        _history("heart_disease"),
        "Severe or uncontrolled cardiovascular disease is a relative contraindication (K20, K16b) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "raised_icp",
        "Raised intracranial pressure",
        C,
        BOTH,
        ("history.raised_icp",),
        _history("raised_icp"),
        "Label warning, increased CSF pressure (K11) [V]; TMS caution (T9) [S]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "liver_disease",
        "Liver disease",
        C,
        K,
        ("history.liver_disease",),
        _history("liver_disease"),
        "Label warning, drug-induced liver injury (K11) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "thyroid_disease",
        "Thyroid disease (check it is not untreated hyperthyroidism)",
        C,
        K,
        ("history.thyroid_disease",),
        _history("thyroid_disease"),
        "Untreated hyperthyroidism (Swiss label, K11c) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "bladder_problems",
        "Bladder problems or cystitis",
        C,
        K,
        ("history.bladder_problems",),
        _history("bladder_problems"),
        "History of cystitis (K20, K16b) [V]; genitourinary pain (K11) [V]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "pregnancy",
        "Pregnant or breastfeeding",
        E,
        K,
        ("history.pregnant_or_breastfeeding",),
        _history("pregnant_or_breastfeeding"),
        "Esketamine may harm a fetus; do not breastfeed (K20) [S]; exclusion is a design default [D]",
    ),
    Rule(
        "pregnancy_tms",
        "Pregnant or breastfeeding (TMS safety not established)",
        C,
        T,
        ("history.pregnant_or_breastfeeding",),
        _history("pregnant_or_breastfeeding"),
        "Pregnancy is a caution (T9) [S]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "psychosis_active",
        "Psychosis in the past year",
        E,
        K,
        ("psychosis_past_year",),
        _is_true("psychosis_past_year", "Yes"),
        "Active psychosis, a relative contraindication (K20, K16b) [V]; exclusion is a design default [D]",
    ),
    Rule(
        "psychosis_history",
        "History of psychosis",
        C,
        K,
        ("psychosis_ever",),
        _is_true("psychosis_ever", "Yes"),
        "History of psychosis, assess benefit and risk (K20, K16b) [V]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "bipolar",
        "Mania or bipolar disorder",
        C,
        BOTH,
        ("mania_or_bipolar",),
        _is_true("mania_or_bipolar", "Yes"),
        "Bipolar depression, mania switch risk [U]; mania/hypomania with TMS (T9) [S]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "mdq_positive",
        "Positive bipolar screen (MDQ)",
        C,
        BOTH,
        ("mdq_positive",),
        _is_true("mdq_positive", "Positive screen"),
        "MDQ positive screen (M12) [V]; bipolar depression [U]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "substance_use",
        "Possible alcohol or drug use disorder",
        C,
        K,
        ("audit_c_positive", "dast10_total"),
        _substance,
        "Substance use disorder incl. alcohol, monitor for misuse (K20, K16b) [V]; cut-offs (M13, M14) [V]",
        action=NextStep.JUDGEMENT,
        params={"dast10_min": 3},
    ),
    Rule(
        "ketamine_misuse",
        "Ketamine use other than as prescribed",
        C,
        K,
        ("ketamine_misuse",),
        _is_true("ketamine_misuse", "Yes"),
        "Illicit ketamine use (K20, K16b) [V]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "theophylline",
        "Theophylline or aminophylline",
        E,
        K,
        ("medication_flags",),
        _flag("theophylline"),
        "Lowers seizure threshold, do not co-administer (K11) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "sedatives",
        "Benzodiazepine or opioid",
        C,
        K,
        ("medication_flags",),
        lambda facts, params: (
            ", ".join(
                sorted(
                    f
                    for f in (facts.medication_flags or frozenset())
                    if f in {"benzodiazepine", "opioid"}
                )
            )
            or None
        ),
        "Profound sedation, respiratory depression, prolonged recovery (K11) [V]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "stimulants",
        "Stimulant or sympathomimetic",
        C,
        BOTH,
        ("medication_flags",),
        _flag("stimulant"),
        "Sympathomimetics, monitor vitals (K11) [V]; seizure-threshold medicines (T9) [S]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "maoi",
        "MAO inhibitor",
        C,
        K,
        ("medication_flags",),
        _flag("maoi"),
        "Sympathomimetic interactions, monitor vitals (K11) [V]; MAOI class effect [U]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "lamotrigine",
        "Lamotrigine",
        C,
        BOTH,
        ("medication_flags",),
        _flag("lamotrigine"),
        "Anticonvulsants raise the motor threshold (T8c) [V]; effect on ketamine response not in the sources [U]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "trd_indication",
        "Fewer failed adequate antidepressant trials than the indication",
        C,
        K,
        ("failed_adequate_trials",),
        _trd,
        "TRD is commonly non-response to >= 2 adequate trials (K21) [V]; CANMAT: IV ketamine third-line (K7) [V]; 6 weeks as adequate is a convention [U]",
        action=NextStep.JUDGEMENT,
        params={"min_failed_trials": 2, "min_weeks": ADEQUATE_TRIAL_WEEKS},
    ),
    Rule(
        "suicide_screen",
        "Positive suicide risk screen",
        C,
        BOTH,
        ("suicide_screen_positive",),
        _is_true("suicide_screen_positive", "Positive"),
        "A clinician documents a risk assessment before treatment (M2, M10, C1) [V]",
        action=NextStep.JUDGEMENT,
    ),
    Rule(
        "bmi_dosing_weight",
        "BMI at or above 30: choose the dosing weight",
        C,
        K,
        ("bmi",),
        _bmi,
        "Consensus suggested ideal body weight at BMI >= 30 (K2) [V]; evidence mixed (K6, K6b) [V]",
        action=NextStep.JUDGEMENT,
        params={"bmi_min": 30},
    ),
    # Issue #14 item 6: exclusions by default (a clinic may make any a caution).
    Rule(
        "glaucoma",
        "Glaucoma or raised intraocular pressure",
        E,
        K,
        ("history.glaucoma",),
        _history("glaucoma"),
        "Ketamine may raise intraocular pressure (label adverse reactions, K11) [U]; exclusion is a design default (issue #14) [D]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "recent_mi_angina",
        "Recent myocardial infarction or unstable angina",
        E,
        K,
        ("history.recent_mi_angina",),
        _history("recent_mi_angina"),
        "Significant BP elevation a serious hazard (K11) [S]; severe or uncontrolled cardiovascular disease (K20, K16b) [V]; BP surges during infusions (K14) [V]; 6 months and exclusion are design defaults (issue #14) [D]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "preeclampsia",
        "Pre-eclampsia or eclampsia",
        E,
        K,
        ("history.preeclampsia",),
        _history("preeclampsia"),
        "Contraindication in the Swiss ketamine label (K11c) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "sleep_apnoea_airway",
        "Untreated obstructive sleep apnoea or a difficult airway",
        E,
        K,
        ("history.sleep_apnoea_airway",),
        _history("sleep_apnoea_airway"),
        "Label warning, respiratory depression (K11) [V]; airway equipment and monitoring for dissociative sedation (K17) [V]; exclusion is a design default (issue #14) [D]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "mania_active",
        "Active mania or hypomania",
        E,
        BOTH,
        ("mania_current",),
        _is_true("mania_current", "Yes (reported)"),
        "Mania switch risk in bipolar depression [U]; mania/hypomania with TMS (T9) [S]; exclusion is a design default (issue #14) [D]",
    ),
    Rule(
        "suicidal_intent",
        "Current suicidal intent or plan: needs a higher level of care",
        E,
        BOTH,
        ("suicidal_intent_current",),
        _is_true(
            "suicidal_intent_current", "C-SSRS screener: intent or plan (high risk)"
        ),
        "C-SSRS triage: intent or a plan calls for immediate evaluation (M10) [V]; a clinician assesses risk before treatment (C1) [V]; outpatient treatment excluded by default (issue #14) [D]",
    ),
    Rule(
        "tms_metal",
        "Metal in or near the head",
        E,
        T,
        ("history.metal_in_head",),
        _history("metal_in_head"),
        "Non-removable conductive or ferromagnetic metal in or near the head (T9) [S]",
    ),
    Rule(
        "tms_implant",
        "Implanted device",
        E,
        T,
        ("history.implanted_device",),
        _history("implanted_device"),
        "Implants controlled by physiological signals (pacemaker, ICD, VNS) (T9) [S]; IFCN screen (T6) [V]",
        action=NextStep.CLEARANCE,
    ),
    Rule(
        "tms_seizures",
        "Seizures or epilepsy",
        C,
        T,
        ("history.seizures",),
        _history("seizures"),
        "Seizure history needs risk/benefit review (T6) [V], (T9) [S]",
        action=NextStep.CLEARANCE,
    ),
)

RULES_BY_ID = {rule.id: rule for rule in DEFAULT_RULES}


# Configuration ------------------------------------------------------------------


class InvalidOverrides(ValueError):
    pass


def configured_rules(overrides: Mapping[str, Mapping[str, Any]] | None) -> list[Rule]:
    """The default rules with a clinic's overrides applied.

    `overrides` maps a rule id to any of {"enabled": bool, "severity":
    "exclusion" | "caution", "params": {name: whole number}}. Anything else is
    refused, so a typo cannot silently leave a default in force.
    """
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(RULES_BY_ID))
    if unknown:
        raise InvalidOverrides(f"Unknown rule(s): {', '.join(unknown)}")
    rules = []
    for rule in DEFAULT_RULES:
        change = dict(overrides.get(rule.id, {}))
        extra = set(change) - {"enabled", "severity", "params"}
        if extra:
            raise InvalidOverrides(f"{rule.id}: unknown setting(s) {sorted(extra)}")
        if "enabled" in change:
            if not isinstance(change["enabled"], bool):
                raise InvalidOverrides(f"{rule.id}: enabled must be true or false")
            rule = replace(rule, enabled=change["enabled"])
        if "severity" in change:
            if change["severity"] not in (Severity.EXCLUSION, Severity.CAUTION):
                raise InvalidOverrides(
                    f"{rule.id}: severity must be exclusion or caution"
                )
            rule = replace(rule, severity=Severity(change["severity"]))
        if "params" in change:
            params = dict(rule.params)
            for name, value in dict(change["params"]).items():
                if name not in params:
                    raise InvalidOverrides(f"{rule.id}: unknown number {name!r}")
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise InvalidOverrides(
                        f"{rule.id}: {name} must be a whole number, 0 or more"
                    )
                params[name] = value
            rule = replace(rule, params=params)
        rules.append(rule)
    return rules


def version_label(clinic_version: int | None) -> str:
    """The version a decision records: the defaults, and the clinic's numbered overrides on them."""
    if clinic_version is None:
        return f"defaults {DEFAULTS_VERSION}"
    return f"clinic v{clinic_version} on defaults {DEFAULTS_VERSION}"


# Evaluation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    severity: Severity
    value: str
    source: str
    action: NextStep = NextStep.NONE
    treatments: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": str(self.severity),
            "value": self.value,
            "source": self.source,
            "action": str(self.action),
            "treatments": list(self.treatments),
        }


@dataclass(frozen=True)
class Review:
    findings: tuple[Finding, ...]
    version: str
    # Unanswered facts an exclusion rule needs (their "missing" findings' rule ids):
    # eligible over them is an override with a written reason (issue #14 item 6).
    required_missing: tuple[str, ...] = ()

    @property
    def unanswered_required(self) -> list[Finding]:
        return [f for f in self.missing if f.rule_id in self.required_missing]

    def of(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def exclusions(self) -> list[Finding]:
        return self.of(Severity.EXCLUSION)

    @property
    def cautions(self) -> list[Finding]:
        return self.of(Severity.CAUTION)

    @property
    def missing(self) -> list[Finding]:
        return self.of(Severity.MISSING)


def evaluate(
    facts: IntakeFacts,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    clinic_version: int | None = None,
) -> Review:
    """Every finding for these facts: exclusions, then cautions, then missing information.

    A rule whose facts are unknown yields one "missing" finding per unknown
    fact (shared by every rule that needs it), never a guess.
    """
    findings: list[Finding] = []
    missing: dict[str, list[str]] = {}
    required: set[str] = set()
    for rule in configured_rules(overrides):
        if not rule.enabled or not (rule.treatments & facts.treatments):
            continue
        unknown = [name for name in rule.needs if facts.value(name) is None]
        if unknown:
            for name in unknown:
                missing.setdefault(name, []).append(rule.title)
                if rule.severity is Severity.EXCLUSION:
                    required.add(name)
            continue
        value = rule.check(facts, rule.params)
        if value is not None:
            findings.append(
                Finding(
                    rule_id=rule.id,
                    title=rule.title,
                    severity=rule.severity,
                    value=value,
                    source=rule.source,
                    action=rule.action,
                    treatments=tuple(sorted(rule.treatments & facts.treatments)),
                )
            )
    order = {Severity.EXCLUSION: 0, Severity.CAUTION: 1}
    findings.sort(key=lambda f: order[f.severity])
    seen_labels: dict[str, str] = {}
    required_ids: set[str] = set()
    for name, needed_by in missing.items():
        label = FACT_LABELS.get(name, name)
        if label in seen_labels:
            if name in required:
                required_ids.add(seen_labels[label])
            continue
        seen_labels[label] = f"missing.{name}"
        if name in required:
            required_ids.add(f"missing.{name}")
        findings.append(
            Finding(
                rule_id=f"missing.{name}",
                title=f"Not answered: {label}",
                severity=Severity.MISSING,
                value="Not answered or not sure",
                source="Needed by: " + "; ".join(needed_by),
            )
        )
    return Review(
        findings=tuple(findings),
        version=version_label(clinic_version),
        required_missing=tuple(sorted(required_ids)),
    )
