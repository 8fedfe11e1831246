import ast
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.infusions import delivery, recovery
from neuroclinic.infusions.recovery import (
    ALDRETE_CRITERIA,
    MOAAS_LABELS,
    AldreteItem,
    DischargeCriterion,
    RecoveryInputError,
    aldrete_circulation_points,
    aldrete_spo2_points,
    discharge_readiness,
    moaas_label,
    score_aldrete,
)


@pytest.mark.parametrize(
    ("points", "total"),
    [
        ((2, 2, 2, 2, 2), 10),
        ((2, 2, 2, 1, 2), 9),
        ((1, 2, 2, 1, 2), 8),
        ((0, 0, 0, 0, 0), 0),
    ],
)
def test_aldrete_total_is_the_sum_of_five_items(
    points: tuple[int, int, int, int, int], total: int
) -> None:
    activity, respiration, circulation, consciousness, spo2 = points

    score = score_aldrete(
        activity=activity,
        respiration=respiration,
        circulation=circulation,
        consciousness=consciousness,
        spo2=spo2,
    )

    assert score.total == total
    assert (
        score.activity,
        score.respiration,
        score.circulation,
        score.consciousness,
        score.spo2,
    ) == points


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("activity", 3),
        ("respiration", -1),
        ("spo2", True),
        ("consciousness", Decimal(2)),
    ],
)
def test_aldrete_items_outside_0_to_2_are_refused(field: str, value: object) -> None:
    points: dict[str, object] = {
        "activity": 2,
        "respiration": 2,
        "circulation": 2,
        "consciousness": 2,
        "spo2": 2,
    } | {field: value}

    with pytest.raises(RecoveryInputError) as caught:
        score_aldrete(**points)  # type: ignore[arg-type]  # the bad value is the point

    assert caught.value.field == field


def test_every_aldrete_item_has_a_criterion_for_each_score() -> None:
    assert set(ALDRETE_CRITERIA) == set(AldreteItem)
    assert all(len(texts) == 3 for texts in ALDRETE_CRITERIA.values())


@pytest.mark.parametrize(
    ("systolic", "baseline", "points"),
    [
        (130, 130, 2),
        (150, 130, 2),  # exactly 20 away is "within 20"
        (110, 130, 2),
        (151, 130, 1),
        (180, 130, 1),  # exactly 50 away is "within 50"
        (181, 130, 0),
        (79, 130, 0),
        (Decimal("150.5"), 130, 1),
    ],
)
def test_circulation_points_follow_distance_from_the_pre_infusion_bp(
    systolic: int | Decimal, baseline: int, points: int
) -> None:
    assert (
        aldrete_circulation_points(
            systolic_mmhg=systolic, baseline_systolic_mmhg=baseline
        )
        == points
    )


@pytest.mark.parametrize(
    ("spo2", "on_oxygen", "points"),
    [
        (98, False, 2),
        (93, False, 2),
        (92, False, 1),  # not above 92 on room air
        (91, False, 1),  # gap in the source: keeps > 90 without help
        (90, False, 0),  # not above 90
        (98, True, 1),  # needs oxygen
        (91, True, 1),
        (90, True, 0),
        (85, True, 0),
    ],
)
def test_spo2_points_depend_on_oxygen_and_the_92_and_90_cut_points(
    spo2: int, on_oxygen: bool, points: int
) -> None:
    assert (
        aldrete_spo2_points(spo2_percent=spo2, on_supplemental_oxygen=on_oxygen)
        == points
    )


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (5, "Responds readily to name spoken in normal tone"),
        (4, "Lethargic response to name spoken in normal tone"),
        (3, "Responds only after name is called loudly and/or repeatedly"),
        (2, "Responds only after mild prodding or shaking"),
        (1, "Responds only after painful trapezius squeeze"),
        (0, "Does not respond to painful trapezius squeeze"),
    ],
)
def test_moaas_scores_have_their_published_labels(score: int, label: str) -> None:
    assert moaas_label(score) == label


@pytest.mark.parametrize("score", [-1, 6, True])
def test_moaas_scores_outside_0_to_5_are_refused(score: int) -> None:
    with pytest.raises(RecoveryInputError):
        moaas_label(score)


def test_moaas_labels_cover_0_to_5() -> None:
    assert sorted(MOAAS_LABELS) == [0, 1, 2, 3, 4, 5]


def ready_kwargs(**overrides: object) -> dict[str, object]:
    return {
        "aldrete_total": 10,
        "minutes_since_infusion_end": 60,
        "min_recovery_minutes": 60,
        "escort_confirmed": True,
    } | overrides


@pytest.mark.parametrize(
    ("overrides", "ready", "unmet"),
    [
        ({}, True, ()),
        ({"aldrete_total": 9}, True, ()),
        ({"aldrete_total": 8}, False, (DischargeCriterion.ALDRETE,)),
        (
            {"minutes_since_infusion_end": 59},
            False,
            (DischargeCriterion.RECOVERY_TIME,),
        ),
        (
            {"minutes_since_infusion_end": Decimal("59.5")},
            False,
            (DischargeCriterion.RECOVERY_TIME,),
        ),
        ({"escort_confirmed": False}, False, (DischargeCriterion.ESCORT,)),
        # Only True confirms an escort.
        ({"escort_confirmed": "false"}, False, (DischargeCriterion.ESCORT,)),
        ({"moaas_score": 5}, True, ()),
        ({"moaas_score": 4}, False, (DischargeCriterion.SEDATION,)),
        ({"moaas_score": 4, "min_moaas_score": 4}, True, ()),
        (
            {"aldrete_total": 9, "min_aldrete_total": 10},
            False,
            (DischargeCriterion.ALDRETE,),
        ),
        (
            {
                "aldrete_total": 7,
                "minutes_since_infusion_end": 10,
                "escort_confirmed": False,
                "moaas_score": 3,
            },
            False,
            (
                DischargeCriterion.ALDRETE,
                DischargeCriterion.RECOVERY_TIME,
                DischargeCriterion.ESCORT,
                DischargeCriterion.SEDATION,
            ),
        ),
    ],
)
def test_discharge_readiness_lists_every_unmet_criterion(
    overrides: dict[str, object], ready: bool, unmet: tuple[DischargeCriterion, ...]
) -> None:
    readiness = discharge_readiness(**ready_kwargs(**overrides))  # type: ignore[arg-type]  # table mixes types

    assert readiness.ready is ready
    assert readiness.unmet_criteria == unmet
    assert len(readiness.unmet) == len(unmet)


def test_unmet_criteria_read_as_sentences() -> None:
    readiness = discharge_readiness(
        aldrete_total=8,
        minutes_since_infusion_end=45,
        min_recovery_minutes=60,
        escort_confirmed=False,
        moaas_score=4,
    )

    assert readiness.unmet == (
        "Modified Aldrete score 8 is below 9.",
        "45 of the required 60 minutes since the infusion ended.",
        "No responsible adult escort confirmed (ketamine label, K11).",
        "MOAA/S 4 (Lethargic response to name spoken in normal tone) is below 5.",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"aldrete_total": 11}, "aldrete_total"),
        ({"aldrete_total": -1}, "aldrete_total"),
        ({"minutes_since_infusion_end": -1}, "minutes_since_infusion_end"),
        ({"minutes_since_infusion_end": 30.0}, "minutes_since_infusion_end"),
        ({"min_recovery_minutes": -5}, "min_recovery_minutes"),
        ({"moaas_score": 6}, "moaas_score"),
        ({"min_aldrete_total": 11}, "min_aldrete_total"),
    ],
)
def test_refused_discharge_inputs_name_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(RecoveryInputError) as caught:
        discharge_readiness(**ready_kwargs(**overrides))  # type: ignore[arg-type]  # table mixes types

    assert caught.value.field == field


@given(
    aldrete_total=st.integers(min_value=0, max_value=10),
    elapsed=st.integers(min_value=0, max_value=600),
    required=st.integers(min_value=0, max_value=600),
    escort=st.booleans(),
    moaas=st.none() | st.integers(min_value=0, max_value=5),
)
def test_ready_exactly_when_nothing_is_unmet(
    aldrete_total: int, elapsed: int, required: int, escort: bool, moaas: int | None
) -> None:
    readiness = discharge_readiness(
        aldrete_total=aldrete_total,
        minutes_since_infusion_end=elapsed,
        min_recovery_minutes=required,
        escort_confirmed=escort,
        moaas_score=moaas,
    )

    expected_ready = (
        aldrete_total >= 9
        and elapsed >= required
        and escort
        and (moaas is None or moaas == 5)
    )
    assert readiness.ready is expected_ready
    assert readiness.ready is (readiness.unmet_criteria == ())


@pytest.mark.parametrize("module", [recovery, delivery])
def test_rule_modules_import_only_the_standard_library(module: ModuleType) -> None:
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))

    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert imported <= sys.stdlib_module_names
