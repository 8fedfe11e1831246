"""The pure eligibility engine: every default rule, the trial count, configuration, versions."""

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from neuroclinic.intake.eligibility import (
    DEFAULT_RULES,
    DEFAULTS_VERSION,
    MEDICAL_HISTORY,
    RULES_BY_ID,
    IntakeFacts,
    InvalidOverrides,
    Severity,
    Treatment,
    Trial,
    TrialEffect,
    count_failed_adequate_trials,
    evaluate,
    is_adequate,
)
from neuroclinic.intake.interactions import MedicationFlag, flag_medications, flags_for

# A source id of docs/sources.md: K11, K11c, T8c, M12...
SOURCE_ID = re.compile(r"\b[KMCDTBP]\d+[a-z]?\b")

BOTH = frozenset({Treatment.KETAMINE, Treatment.TMS})

# Nothing to find: an adult with every question answered "no".
CLEAR = IntakeFacts(
    treatments=BOTH,
    age_years=45,
    history=dict.fromkeys(MEDICAL_HISTORY, False),
    hypertension_controlled=None,
    psychosis_ever=False,
    psychosis_past_year=False,
    mania_or_bipolar=False,
    mania_current=False,
    suicidal_intent_current=False,
    failed_adequate_trials=3,
    medication_flags=frozenset(),
    ketamine_allergy=False,
    ketamine_misuse=False,
    audit_c_positive=False,
    dast10_total=0,
    mdq_positive=False,
    suicide_screen_positive=False,
    bp_systolic=124,
    bp_diastolic=78,
    bmi=24.0,
)


def history(**changes: bool | None) -> dict[str, bool | None]:
    return {**dict.fromkeys(MEDICAL_HISTORY, False), **changes}


def test_clear_facts_raise_no_finding() -> None:
    review = evaluate(CLEAR)
    assert review.findings == ()
    assert review.version == f"defaults {DEFAULTS_VERSION}"


# (rule id, change to the clear facts, severity, value shown)
RULE_TABLE: list[tuple[str, dict[str, Any], Severity, str]] = [
    ("minimum_age", {"age_years": 17}, Severity.EXCLUSION, "17 years"),
    (
        "ketamine_hypersensitivity",
        {"ketamine_allergy": True},
        Severity.EXCLUSION,
        "Allergy to ketamine listed",
    ),
    (
        "blood_pressure_high",
        {"bp_systolic": 185, "bp_diastolic": 95},
        Severity.EXCLUSION,
        "185/95 mmHg (reported)",
    ),
    (
        "blood_pressure_high",
        {"bp_systolic": 150, "bp_diastolic": 101},
        Severity.EXCLUSION,
        "150/101 mmHg (reported)",
    ),
    (
        "hypertension_uncontrolled",
        {"history": history(hypertension=True), "hypertension_controlled": False},
        Severity.EXCLUSION,
        "High blood pressure, not controlled (reported)",
    ),
    (
        "hypertension_history",
        {"history": history(hypertension=True), "hypertension_controlled": True},
        Severity.CAUTION,
        "Yes (controlled)",
    ),
    (
        "aneurysm_avm",
        {"history": history(aneurysm_avm=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    (
        "intracranial_bleed",
        {"history": history(stroke_bleed=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    (
        "heart_disease",
        {"history": history(heart_disease=True)},
        Severity.CAUTION,
        "Yes",
    ),
    ("raised_icp", {"history": history(raised_icp=True)}, Severity.CAUTION, "Yes"),
    (
        "liver_disease",
        {"history": history(liver_disease=True)},
        Severity.CAUTION,
        "Yes",
    ),
    (
        "thyroid_disease",
        {"history": history(thyroid_disease=True)},
        Severity.CAUTION,
        "Yes",
    ),
    (
        "bladder_problems",
        {"history": history(bladder_problems=True)},
        Severity.CAUTION,
        "Yes",
    ),
    (
        "pregnancy",
        {"history": history(pregnant_or_breastfeeding=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    (
        "pregnancy_tms",
        {"history": history(pregnant_or_breastfeeding=True)},
        Severity.CAUTION,
        "Yes",
    ),
    (
        "psychosis_active",
        {"psychosis_past_year": True, "psychosis_ever": True},
        Severity.EXCLUSION,
        "Yes",
    ),
    ("psychosis_history", {"psychosis_ever": True}, Severity.CAUTION, "Yes"),
    ("bipolar", {"mania_or_bipolar": True}, Severity.CAUTION, "Yes"),
    ("mdq_positive", {"mdq_positive": True}, Severity.CAUTION, "Positive screen"),
    ("substance_use", {"audit_c_positive": True}, Severity.CAUTION, "AUDIT-C positive"),
    ("substance_use", {"dast10_total": 3}, Severity.CAUTION, "DAST-10 3"),
    ("ketamine_misuse", {"ketamine_misuse": True}, Severity.CAUTION, "Yes"),
    (
        "theophylline",
        {"medication_flags": frozenset({"theophylline"})},
        Severity.EXCLUSION,
        "Takes a medicine flagged theophylline",
    ),
    (
        "sedatives",
        {"medication_flags": frozenset({"benzodiazepine"})},
        Severity.CAUTION,
        "benzodiazepine",
    ),
    (
        "sedatives",
        {"medication_flags": frozenset({"opioid", "benzodiazepine"})},
        Severity.CAUTION,
        "benzodiazepine, opioid",
    ),
    (
        "stimulants",
        {"medication_flags": frozenset({"stimulant"})},
        Severity.CAUTION,
        "Takes a medicine flagged stimulant",
    ),
    (
        "maoi",
        {"medication_flags": frozenset({"maoi"})},
        Severity.CAUTION,
        "Takes a medicine flagged maoi",
    ),
    (
        "lamotrigine",
        {"medication_flags": frozenset({"lamotrigine"})},
        Severity.CAUTION,
        "Takes a medicine flagged lamotrigine",
    ),
    (
        "trd_indication",
        {"failed_adequate_trials": 1},
        Severity.CAUTION,
        "1 failed adequate trial(s) (adequate: >= 6 weeks)",
    ),
    ("suicide_screen", {"suicide_screen_positive": True}, Severity.CAUTION, "Positive"),
    ("bmi_dosing_weight", {"bmi": 31.2}, Severity.CAUTION, "BMI 31.2"),
    ("tms_metal", {"history": history(metal_in_head=True)}, Severity.EXCLUSION, "Yes"),
    (
        "tms_implant",
        {"history": history(implanted_device=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    ("tms_seizures", {"history": history(seizures=True)}, Severity.CAUTION, "Yes"),
    # Issue #14 item 6: the default exclusions added in 2026.2.
    ("glaucoma", {"history": history(glaucoma=True)}, Severity.EXCLUSION, "Yes"),
    (
        "recent_mi_angina",
        {"history": history(recent_mi_angina=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    (
        "preeclampsia",
        {"history": history(preeclampsia=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    (
        "sleep_apnoea_airway",
        {"history": history(sleep_apnoea_airway=True)},
        Severity.EXCLUSION,
        "Yes",
    ),
    ("mania_active", {"mania_current": True}, Severity.EXCLUSION, "Yes (reported)"),
    (
        "suicidal_intent",
        {"suicidal_intent_current": True},
        Severity.EXCLUSION,
        "C-SSRS screener: intent or plan (high risk)",
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "changes", "severity", "value"),
    RULE_TABLE,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(RULE_TABLE)],
)
def test_each_default_rule_fires_with_its_value_and_source(
    rule_id: str, changes: dict[str, Any], severity: Severity, value: str
) -> None:
    review = evaluate(replace(CLEAR, **changes))
    finding = next(f for f in review.findings if f.rule_id == rule_id)
    assert finding.severity == severity
    assert finding.value == value
    assert finding.source == RULES_BY_ID[rule_id].source
    assert SOURCE_ID.search(finding.source)


def test_every_default_rule_is_in_the_table_and_cites_a_source_id_with_its_grade() -> (
    None
):
    assert {row[0] for row in RULE_TABLE} == set(RULES_BY_ID)
    for rule in DEFAULT_RULES:
        assert SOURCE_ID.search(rule.source), rule.id
        assert re.search(r"\[[VSUD]\]", rule.source), rule.id
        assert ".md" not in rule.source, rule.id  # ids, never file names


@pytest.mark.parametrize(
    ("changes", "quiet_rule"),
    [
        ({"bp_systolic": 180, "bp_diastolic": 100}, "blood_pressure_high"),
        ({"age_years": 18}, "minimum_age"),
        ({"failed_adequate_trials": 2}, "trd_indication"),
        ({"dast10_total": 2}, "substance_use"),
        ({"bmi": 29.9}, "bmi_dosing_weight"),
        (
            {"history": history(hypertension=True), "hypertension_controlled": True},
            "hypertension_uncontrolled",
        ),
    ],
)
def test_boundaries_do_not_fire(changes: dict[str, Any], quiet_rule: str) -> None:
    review = evaluate(replace(CLEAR, **changes))
    assert quiet_rule not in {f.rule_id for f in review.findings}


def test_rules_apply_only_to_the_treatment_sought() -> None:
    tms_only = replace(
        CLEAR,
        treatments=frozenset({Treatment.TMS}),
        history=history(aneurysm_avm=True, metal_in_head=True),
    )
    ids = {f.rule_id for f in evaluate(tms_only).findings}
    assert "tms_metal" in ids
    assert "aneurysm_avm" not in ids
    ketamine_only = replace(tms_only, treatments=frozenset({Treatment.KETAMINE}))
    ids = {f.rule_id for f in evaluate(ketamine_only).findings}
    assert ids == {"aneurysm_avm"}


def test_unknown_facts_are_reported_missing_once_each() -> None:
    review = evaluate(IntakeFacts(treatments=BOTH))
    assert review.exclusions == []
    assert review.cautions == []
    titles = [f.title for f in review.missing]
    assert len(titles) == len(set(titles))
    assert "Not answered: Blood pressure" in titles
    assert "Not answered: Prior antidepressant trials" in titles
    bp = next(f for f in review.missing if f.title == "Not answered: Blood pressure")
    assert "Blood pressure above the clinic's limit" in bp.source


def test_findings_come_exclusions_first_then_cautions_then_missing() -> None:
    facts = replace(
        CLEAR,
        history=history(heart_disease=True, aneurysm_avm=True),
        bp_systolic=None,
    )
    severities = [f.severity for f in evaluate(facts).findings]
    assert severities == sorted(
        severities, key=[Severity.EXCLUSION, Severity.CAUTION, Severity.MISSING].index
    )


def test_a_clinic_can_switch_off_rules_change_severity_and_numbers() -> None:
    facts = replace(
        CLEAR, bp_systolic=175, bp_diastolic=90, bmi=31.0, psychosis_past_year=True
    )
    overrides: dict[str, dict[str, Any]] = {
        "blood_pressure_high": {"params": {"systolic_max": 170}},
        "bmi_dosing_weight": {"enabled": False},
        "psychosis_active": {"severity": "caution"},
    }
    review = evaluate(facts, overrides=overrides, clinic_version=3)
    by_id = {f.rule_id: f for f in review.findings}
    assert by_id["blood_pressure_high"].severity == Severity.EXCLUSION
    assert "bmi_dosing_weight" not in by_id
    assert by_id["psychosis_active"].severity == Severity.CAUTION
    assert review.version == f"clinic v3 on defaults {DEFAULTS_VERSION}"


@pytest.mark.parametrize(
    "overrides",
    [
        {"no_such_rule": {"enabled": False}},
        {"bmi_dosing_weight": {"enabled": "no"}},
        {"bmi_dosing_weight": {"severity": "missing"}},
        {"bmi_dosing_weight": {"params": {"weight": 3}}},
        {"bmi_dosing_weight": {"params": {"bmi_min": -1}}},
        {"bmi_dosing_weight": {"params": {"bmi_min": True}}},
        {"bmi_dosing_weight": {"colour": "red"}},
    ],
)
def test_bad_overrides_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidOverrides):
        evaluate(CLEAR, overrides=overrides)


def trial(
    weeks: int | None, effect: TrialEffect | None, full_dose: bool | None = True
) -> Trial:
    return Trial(
        drug="Sertraline",
        dose="100 mg",
        weeks=weeks,
        full_dose=full_dose,
        effect=effect,
    )


@pytest.mark.parametrize(
    ("t", "adequate", "failed"),
    [
        (trial(6, TrialEffect.NO_HELP), True, True),
        (trial(5, TrialEffect.NO_HELP), False, False),
        (trial(12, TrialEffect.HELPED_A_LITTLE), True, True),
        (trial(12, TrialEffect.WORSE), True, True),
        (trial(12, TrialEffect.HELPED_A_LOT), True, False),
        (trial(8, TrialEffect.SIDE_EFFECTS), True, False),
        (trial(8, TrialEffect.NO_HELP, full_dose=False), False, False),
        (trial(8, TrialEffect.NO_HELP, full_dose=None), True, True),
        (trial(None, TrialEffect.NO_HELP), False, False),
        (trial(8, None), True, False),
    ],
)
def test_adequate_and_failed_trials(t: Trial, adequate: bool, failed: bool) -> None:
    assert is_adequate(t) is adequate
    assert count_failed_adequate_trials([t]) == int(failed)


def test_the_adequate_trial_length_is_configurable() -> None:
    assert (
        count_failed_adequate_trials([trial(4, TrialEffect.NO_HELP)], min_weeks=4) == 1
    )


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("Lorazepam 0.5 mg", [MedicationFlag.BENZODIAZEPINE]),
        ("XANAX", [MedicationFlag.BENZODIAZEPINE]),
        ("Lamictal", [MedicationFlag.LAMOTRIGINE]),
        ("phenelzine", [MedicationFlag.MAOI]),
        ("Theo-24", [MedicationFlag.THEOPHYLLINE]),
        ("dextroamphetamine", [MedicationFlag.STIMULANT]),
        ("Suboxone film", [MedicationFlag.OPIOID]),
        ("Sertraline", []),
        ("", []),
    ],
)
def test_medication_names_raise_their_flags(
    name: str, flags: list[MedicationFlag]
) -> None:
    assert flags_for(name) == flags


def test_a_medication_list_groups_names_by_flag_in_table_order() -> None:
    found = flag_medications(["Oxycodone", "Clonazepam", "Tramadol", "Bupropion"])
    assert list(found) == [MedicationFlag.BENZODIAZEPINE, MedicationFlag.OPIOID]
    assert found[MedicationFlag.OPIOID] == ["Oxycodone", "Tramadol"]


def test_the_rules_page_shows_every_default_with_the_source_the_code_cites() -> None:
    page = (
        Path(__file__).resolve().parents[3] / "docs" / "clinical" / "eligibility.md"
    ).read_text()
    documented = {
        found.group(1): found.group(2)
        for found in re.finditer(r"^\| `(\w+)` \|.* \| ([^|]+) \|$", page, re.M)
    }

    assert {rule_id: documented.get(rule_id) for rule_id in RULES_BY_ID} == {
        rule.id: rule.source for rule in DEFAULT_RULES
    }


@pytest.mark.parametrize(
    ("unknown", "required"),
    [
        # (facts left unanswered, the "missing" findings that are required)
        ({"history": history(glaucoma=None)}, ["missing.history.glaucoma"]),
        (
            {"history": history(pregnant_or_breastfeeding=None)},
            ["missing.history.pregnant_or_breastfeeding"],
        ),
        ({"suicidal_intent_current": None}, ["missing.suicidal_intent_current"]),
        ({"mania_current": None}, ["missing.mania_current"]),
        ({"ketamine_allergy": None}, ["missing.ketamine_allergy"]),
        ({"bp_systolic": None}, ["missing.bp_systolic"]),
        # Only cautions need these: missing, but not required.
        ({"failed_adequate_trials": None}, []),
        ({"bmi": None}, []),
        ({"history": history(heart_disease=None)}, []),
    ],
)
def test_item6_unanswered_facts_an_exclusion_needs_are_required(
    unknown: dict[str, Any], required: list[str]
) -> None:
    review = evaluate(replace(CLEAR, **unknown))
    assert review.missing, "the fact is reported missing"
    assert list(review.required_missing) == required
    assert [f.rule_id for f in review.unanswered_required] == required


def test_item6_a_fact_stops_being_required_when_its_exclusion_is_made_a_caution() -> (
    None
):
    facts = replace(CLEAR, history=history(glaucoma=None))
    assert evaluate(facts).required_missing == ("missing.history.glaucoma",)
    relaxed = evaluate(facts, overrides={"glaucoma": {"severity": "caution"}})
    assert relaxed.required_missing == ()
    assert [f.rule_id for f in relaxed.missing] == ["missing.history.glaucoma"]


def test_item6_a_tms_only_intake_does_not_require_the_ketamine_only_facts() -> None:
    facts = replace(
        CLEAR, treatments=frozenset({Treatment.TMS}), history=history(glaucoma=None)
    )
    review = evaluate(facts)
    assert review.missing == []
    assert review.required_missing == ()
