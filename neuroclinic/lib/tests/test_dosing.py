import ast
import dataclasses
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.lib import dosing, vitals
from neuroclinic.lib.dosing import (
    PUMP_RATE_ROUNDING_ML_PER_HOUR,
    VOLUME_ROUNDING_ML,
    CapReason,
    DoseCalculation,
    DoseInputError,
    DosingWeightRule,
    Sex,
    adjusted_body_weight_kg,
    calculate_dose,
    ideal_body_weight_kg,
    lb_to_kg,
)

D = Decimal


def standard(**overrides: object) -> DoseCalculation:
    """70 kg, 0.5 mg/kg, 10 mg/mL into 96.5 mL over 40 min, unless overridden."""
    arguments: dict[str, object] = {
        "weight_kg": D(70),
        "dose_mg_per_kg": D("0.5"),
        "concentration_mg_per_ml": D(10),
        "diluent_volume_ml": D("96.5"),
        "duration_minutes": 40,
    } | overrides
    return calculate_dose(**arguments)  # type: ignore[arg-type]  # the table mixes types on purpose


# Hand-computed; see docs/clinical/dosing.md for the worked rows.
@pytest.mark.parametrize(
    (
        "weight_kg",
        "mg_per_kg",
        "vial",
        "diluent_ml",
        "minutes",
        "dose_mg",
        "drug_ml",
        "total_ml",
        "final_mg_per_ml",
        "rate_ml_per_hour",
        "mg_per_min",
    ),
    [
        # 70 x 0.5 = 35 mg; 35 / 10 = 3.5 mL; + 96.5 = 100 mL; 100 / (40/60) = 150 mL/h.
        (
            "70",
            "0.5",
            10,
            "96.5",
            40,
            "35.0",
            "3.50",
            "100.00",
            "0.350",
            "150.0",
            "0.875",
        ),
        # The worked example of docs/clinical/dosing.md: 80 kg, 50 mg/mL into 100 mL NS over 40 min.
        (
            "80",
            "0.5",
            50,
            "100",
            40,
            "40.0",
            "0.80",
            "100.80",
            "0.397",
            "151.2",
            "1.000",
        ),
        (
            "80",
            "0.5",
            10,
            "100",
            40,
            "40.0",
            "4.00",
            "104.00",
            "0.385",
            "156.0",
            "1.000",
        ),
        (
            "80",
            "0.5",
            100,
            "100",
            40,
            "40.0",
            "0.40",
            "100.40",
            "0.398",
            "150.6",
            "1.000",
        ),
        # Mayo-style slow infusion over 100 min (K2).
        (
            "70",
            "0.5",
            10,
            "96.5",
            100,
            "35.0",
            "3.50",
            "100.00",
            "0.350",
            "60.0",
            "0.350",
        ),
        (
            "60",
            "1.0",
            50,
            "250",
            60,
            "60.0",
            "1.20",
            "251.20",
            "0.239",
            "251.2",
            "1.000",
        ),
        # 55.5 x 0.75 = 41.625 -> 41.6 mg; 104.16 x 60 / 45 = 138.88 -> 138.9 mL/h.
        (
            "55.5",
            "0.75",
            10,
            "100",
            45,
            "41.6",
            "4.16",
            "104.16",
            "0.399",
            "138.9",
            "0.924",
        ),
    ],
)
def test_dose_volumes_and_rates_match_hand_computed_values(
    weight_kg: str,
    mg_per_kg: str,
    vial: int,
    diluent_ml: str,
    minutes: int,
    dose_mg: str,
    drug_ml: str,
    total_ml: str,
    final_mg_per_ml: str,
    rate_ml_per_hour: str,
    mg_per_min: str,
) -> None:
    result = calculate_dose(
        weight_kg=D(weight_kg),
        dose_mg_per_kg=D(mg_per_kg),
        concentration_mg_per_ml=vial,
        diluent_volume_ml=D(diluent_ml),
        duration_minutes=minutes,
    )

    assert result.dosing_weight_kg == D(weight_kg)
    assert result.dose_mg == D(dose_mg)
    assert result.drug_volume_ml == D(drug_ml)
    assert result.total_volume_ml == D(total_ml)
    assert result.final_concentration_mg_per_ml == D(final_mg_per_ml)
    assert result.rate_ml_per_hour == D(rate_ml_per_hour)
    assert result.dose_rate_mg_per_min == D(mg_per_min)
    assert result.capped is False
    assert result.cap_reason is None


def test_working_shows_every_step_of_the_arithmetic() -> None:
    result = standard()

    assert result.working == (
        "Dosing weight: actual body weight 70 kg",
        "Dose: 0.5 mg/kg x 70 kg = 35.0 mg -> 35.0 mg (rounded to 0.1 mg)",
        "Drug volume: 35.0 mg / 10 mg/mL = 3.5 mL -> 3.50 mL",
        "Total volume: 3.50 mL drug + 96.5 mL diluent = 100.00 mL",
        "Final concentration: 35.0 mg / 100.00 mL = 0.350 mg/mL",
        "Pump rate: 100.00 mL x 60 / 40 min = 150.000 mL/h -> 150.0 mL/h",
        "Dose rate: 35.0 mg / 40 min = 0.875 mg/min",
    )
    assert result.warnings == ()


def test_standard_infusion_has_no_warnings() -> None:
    assert standard().warnings == ()


def test_result_is_immutable() -> None:
    result = standard()

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.dose_mg = D(1)  # type: ignore[misc]  # the point of the test


# Devine: male 50 kg, female 45.5 kg, + 2.3 kg per inch over 60 in (K23).
@pytest.mark.parametrize(
    ("height_cm", "sex", "ibw_kg"),
    [
        # 180 / 2.54 = 70.866 in; 50 + 2.3 x 10.866 = 74.992 -> 75.0 kg.
        ("180", Sex.MALE, "75.0"),
        # 165 / 2.54 = 64.961 in; 45.5 + 2.3 x 4.961 = 56.909 -> 56.9 kg.
        ("165", Sex.FEMALE, "56.9"),
        # 170 / 2.54 = 66.929 in; 45.5 + 2.3 x 6.929 = 61.437 -> 61.4 kg.
        ("170", Sex.FEMALE, "61.4"),
        # 75 in exactly: 50 + 2.3 x 15 = 84.5 kg.
        ("190.5", Sex.MALE, "84.5"),
        # 69 in exactly: 50 + 2.3 x 9 = 70.7 kg.
        ("175.26", Sex.MALE, "70.7"),
        # 60 in exactly: the base.
        ("152.4", Sex.MALE, "50.0"),
        # Under 5 ft: held at the base, not below it.
        ("150", Sex.FEMALE, "45.5"),
        ("140", Sex.MALE, "50.0"),
    ],
)
def test_ideal_body_weight_follows_devine(
    height_cm: str, sex: Sex, ibw_kg: str
) -> None:
    assert ideal_body_weight_kg(height_cm=D(height_cm), sex=sex) == D(ibw_kg)


def test_ideal_body_weight_accepts_the_sex_as_text() -> None:
    assert ideal_body_weight_kg(height_cm=180, sex="male") == D("75.0")


def test_adjusted_body_weight_adds_forty_percent_of_the_excess() -> None:
    # 75.0 + 0.4 x (120 - 75.0) = 93.0
    assert adjusted_body_weight_kg(
        actual_weight_kg=120, ideal_weight_kg=D("75.0")
    ) == D("93.0")


@pytest.mark.parametrize(
    ("rule", "height_cm", "sex", "weight_kg", "dosing_weight_kg", "dose_mg"),
    [
        (DosingWeightRule.IDEAL, "180", "male", "120", "75.0", "37.5"),
        # 75.0 + 0.4 x 45 = 93.0 kg; x 0.5 = 46.5 mg.
        (DosingWeightRule.ADJUSTED, "180", "male", "120", "93.0", "46.5"),
        # 56.9 + 0.4 x 43.1 = 74.14 -> 74.1 kg; x 0.5 = 37.05 -> 37.1 mg (half up).
        (DosingWeightRule.ADJUSTED, "165", "female", "100", "74.1", "37.1"),
        # Under 5 ft: 45.5 + 0.4 x 34.5 = 59.3 kg.
        (DosingWeightRule.ADJUSTED, "150", "female", "80", "59.3", "29.7"),
        # Text values work as well as the enum.
        ("ideal", "165", "female", "90", "56.9", "28.5"),
        ("actual", None, None, "90", "90", "45.0"),
    ],
)
def test_dosing_weight_rule_selects_the_weight_the_dose_is_based_on(
    rule: DosingWeightRule | str,
    height_cm: str | None,
    sex: str | None,
    weight_kg: str,
    dosing_weight_kg: str,
    dose_mg: str,
) -> None:
    result = standard(
        weight_kg=D(weight_kg),
        dosing_weight_rule=rule,
        height_cm=None if height_cm is None else D(height_cm),
        sex=sex,
    )

    assert result.dosing_weight_kg == D(dosing_weight_kg)
    assert result.dose_mg == D(dose_mg)


@pytest.mark.parametrize("rule", [DosingWeightRule.IDEAL, DosingWeightRule.ADJUSTED])
def test_actual_weight_below_ideal_is_used_and_warned_about(
    rule: DosingWeightRule,
) -> None:
    result = standard(
        weight_kg=D(65), dosing_weight_rule=rule, height_cm=D(180), sex=Sex.MALE
    )

    assert result.dosing_weight_kg == D(65)
    assert result.dose_mg == D("32.5")
    assert any("below the ideal body weight" in warning for warning in result.warnings)


def test_height_under_five_feet_is_warned_about() -> None:
    result = standard(
        dosing_weight_rule=DosingWeightRule.IDEAL, height_cm=D(150), sex=Sex.FEMALE
    )

    assert result.dosing_weight_kg == D("45.5")
    assert any("under 5 ft" in warning for warning in result.warnings)


def test_ideal_weight_working_shows_the_devine_arithmetic() -> None:
    result = standard(
        weight_kg=D(120), dosing_weight_rule="adjusted", height_cm=D(180), sex="male"
    )

    assert result.working[:3] == (
        "IBW (Devine, male): 180 cm / 2.54 = 70.87 in; 50 + 2.3 x (70.87 - 60) = 75.0 kg",
        "Adjusted body weight: 75.0 + 0.4 x (120 - 75.0) = 93.0 kg",
        "Dosing weight: adjusted body weight 93.0 kg",
    )


@pytest.mark.parametrize(
    (
        "weight_kg",
        "mg_per_kg",
        "max_dose_mg",
        "max_mg_per_kg",
        "dose_mg",
        "capped",
        "reason",
    ),
    [
        # 150 x 0.5 = 75 mg; the absolute cap of 60 mg decides.
        ("150", "0.5", "60", None, "60.0", True, CapReason.MAX_DOSE_MG),
        # 0.4 mg/kg x 70 kg = 28 mg ceiling.
        ("70", "0.5", None, "0.4", "28.0", True, CapReason.MAX_DOSE_MG_PER_KG),
        # Both given: the lower one (50 mg < 56 mg) decides.
        ("70", "1.0", "50", "0.8", "50.0", True, CapReason.MAX_DOSE_MG),
        ("70", "1.0", "60", "0.8", "56.0", True, CapReason.MAX_DOSE_MG_PER_KG),
        # A tie is reported as the absolute cap.
        ("70", "1.0", "56", "0.8", "56.0", True, CapReason.MAX_DOSE_MG),
        # A dose equal to the cap is not capped.
        ("70", "0.5", "35", None, "35.0", False, None),
        ("70", "0.5", None, "0.5", "35.0", False, None),
        # A cap off the 0.1 mg grid is rounded down, never up.
        ("70", "0.5", "35.04", None, "35.0", False, None),
        ("70", "0.5", "34.96", None, "34.9", True, CapReason.MAX_DOSE_MG),
    ],
)
def test_caps_limit_the_dose(
    weight_kg: str,
    mg_per_kg: str,
    max_dose_mg: str | None,
    max_mg_per_kg: str | None,
    dose_mg: str,
    capped: bool,
    reason: CapReason | None,
) -> None:
    result = standard(
        weight_kg=D(weight_kg),
        dose_mg_per_kg=D(mg_per_kg),
        max_dose_mg=None if max_dose_mg is None else D(max_dose_mg),
        max_dose_mg_per_kg=None if max_mg_per_kg is None else D(max_mg_per_kg),
    )

    assert result.dose_mg == D(dose_mg)
    assert result.capped is capped
    assert result.cap_reason == reason
    assert any("capped" in warning for warning in result.warnings) is capped


def test_drawn_volume_is_rounded_down_when_rounding_up_would_pass_the_cap() -> None:
    # 33.3 mg / 50 mg/mL = 0.666 mL; 0.67 mL would hold 33.5 mg, over the cap.
    result = standard(concentration_mg_per_ml=50, max_dose_mg=D("33.3"))

    assert result.dose_mg == D("33.3")
    assert result.drug_volume_ml == D("0.66")


def test_drawn_volume_that_holds_a_different_dose_is_warned_about() -> None:
    # 33.3 mg / 50 mg/mL = 0.666 -> 0.67 mL, which holds 33.5 mg.
    result = standard(
        weight_kg=D(74), dose_mg_per_kg=D("0.45"), concentration_mg_per_ml=50
    )

    assert result.dose_mg == D("33.3")
    assert result.drug_volume_ml == D("0.67")
    assert any("holds 33.50 mg" in warning for warning in result.warnings)


@pytest.mark.parametrize(
    ("overrides", "warning_text"),
    [
        ({"dose_mg_per_kg": D("1.2")}, "above the usual 0.5-1 mg/kg"),
        ({"duration_minutes": 20}, "shorter than the standard 40 min"),
        # 0.70 mL undiluted over 100 min = 0.42 -> 0.4 mL/h, which runs for 105 min.
        (
            {
                "concentration_mg_per_ml": 50,
                "diluent_volume_ml": D(0),
                "duration_minutes": 100,
            },
            "runs for 105.0 min, not 100 min",
        ),
    ],
)
def test_unusual_but_allowed_orders_carry_a_warning(
    overrides: dict[str, object], warning_text: str
) -> None:
    result = standard(**overrides)

    assert any(warning_text in warning for warning in result.warnings)


@pytest.mark.parametrize(
    ("overrides", "field", "message_part"),
    [
        # A 7000 kg patient is a unit error, not a patient.
        ({"weight_kg": D(7000)}, "weight_kg", "pounds"),
        ({"weight_kg": D(330)}, "weight_kg", "if 330 is in pounds, that is 149.7 kg"),
        ({"weight_kg": D("29.9")}, "weight_kg", "plausible adult range"),
        ({"weight_kg": D("300.1")}, "weight_kg", "plausible adult range"),
        ({"weight_kg": 70.0}, "weight_kg", "not float"),
        ({"weight_kg": "70"}, "weight_kg", "not str"),
        ({"weight_kg": True}, "weight_kg", "not bool"),
        ({"weight_kg": D("NaN")}, "weight_kg", "finite"),
        ({"weight_kg": D("Infinity")}, "weight_kg", "finite"),
        ({"dose_mg_per_kg": D("0.04")}, "dose_mg_per_kg", "outside 0.05-2.0"),
        ({"dose_mg_per_kg": D("2.01")}, "dose_mg_per_kg", "outside 0.05-2.0"),
        ({"dose_mg_per_kg": 0.5}, "dose_mg_per_kg", "not float"),
        (
            {"concentration_mg_per_ml": D(25)},
            "concentration_mg_per_ml",
            "10, 50 or 100",
        ),
        ({"concentration_mg_per_ml": 10.0}, "concentration_mg_per_ml", "not float"),
        ({"diluent_volume_ml": D(-1)}, "diluent_volume_ml", "0-1000"),
        ({"diluent_volume_ml": D("1000.01")}, "diluent_volume_ml", "0-1000"),
        ({"duration_minutes": 9}, "duration_minutes", "10-240"),
        ({"duration_minutes": 241}, "duration_minutes", "10-240"),
        ({"duration_minutes": 40.0}, "duration_minutes", "not float"),
        # 100 mg/mL is never given undiluted (K11).
        (
            {"concentration_mg_per_ml": 100, "diluent_volume_ml": D(0)},
            "diluent_volume_ml",
            "must be diluted",
        ),
        # 70 mg = 0.70 mL of 100 mg/mL needs at least 0.70 mL of diluent (K11).
        (
            {
                "concentration_mg_per_ml": 100,
                "dose_mg_per_kg": D(1),
                "diluent_volume_ml": D("0.69"),
            },
            "diluent_volume_ml",
            "at least 0.70 mL",
        ),
        (
            {"dosing_weight_rule": "lean"},
            "dosing_weight_rule",
            "actual, ideal, adjusted",
        ),
        ({"dosing_weight_rule": "ideal", "sex": "male"}, "height_cm", "required"),
        ({"dosing_weight_rule": "adjusted", "height_cm": D(170)}, "sex", "required"),
        (
            {"dosing_weight_rule": "ideal", "height_cm": D(170), "sex": "other"},
            "sex",
            "male or female",
        ),
        # 70 looks like inches.
        (
            {"dosing_weight_rule": "ideal", "height_cm": D(70), "sex": "male"},
            "height_cm",
            "if 70 is in inches, that is 177.80 cm",
        ),
        (
            {"dosing_weight_rule": "ideal", "height_cm": D(251), "sex": "male"},
            "height_cm",
            "plausible adult range",
        ),
        ({"max_dose_mg": D(0)}, "max_dose_mg", "greater than 0"),
        ({"max_dose_mg": D(-5)}, "max_dose_mg", "greater than 0"),
        ({"max_dose_mg": 50.0}, "max_dose_mg", "not float"),
        ({"max_dose_mg_per_kg": D(0)}, "max_dose_mg_per_kg", "greater than 0"),
        # 1.5 mg = 0.03 mL undiluted over 240 min would be 0.0075 mL/h.
        (
            {
                "weight_kg": D(30),
                "dose_mg_per_kg": D("0.05"),
                "concentration_mg_per_ml": 50,
                "diluent_volume_ml": D(0),
                "duration_minutes": 240,
            },
            "diluent_volume_ml",
            "rounds to 0 mL/h",
        ),
        # 0.2 mg of 100 mg/mL is 0.002 mL: below one syringe graduation.
        (
            {"concentration_mg_per_ml": 100, "max_dose_mg": D("0.2")},
            "concentration_mg_per_ml",
            "lower-strength vial",
        ),
        # A cap so small that nothing is left to give.
        ({"max_dose_mg": D("0.05")}, "max_dose_mg", "no dose"),
    ],
)
def test_refused_inputs_name_the_field(
    overrides: dict[str, object], field: str, message_part: str
) -> None:
    with pytest.raises(DoseInputError) as caught:
        standard(**overrides)

    assert caught.value.field == field
    assert message_part in str(caught.value)


def test_dose_input_error_is_a_value_error() -> None:
    assert issubclass(DoseInputError, ValueError)


@pytest.mark.parametrize(
    ("weight_lb", "weight_kg"),
    [
        # x 0.45359237 exactly, then to 0.1 kg.
        (D(154), D("69.9")),
        (D(220), D("99.8")),
        (D(100), D("45.4")),
        (D("165.5"), D("75.1")),
    ],
)
def test_pounds_convert_to_kilograms(weight_lb: Decimal, weight_kg: Decimal) -> None:
    assert lb_to_kg(weight_lb) == weight_kg


@pytest.mark.parametrize(
    ("weight_lb", "field"), [(154.0, "weight_lb"), (D(0), "weight_lb")]
)
def test_pound_conversion_refuses_floats_and_non_positive_weights(
    weight_lb: object, field: str
) -> None:
    with pytest.raises(DoseInputError) as caught:
        lb_to_kg(weight_lb)  # type: ignore[arg-type]  # floats are refused at run time too

    assert caught.value.field == field


@st.composite
def orders(draw: st.DrawFn) -> dict[str, object]:
    # With at least 10 mL of diluent every order is valid: 100 mg/mL needs diluent >= the
    # drug volume (at most 600 mg = 6 mL), and the pump rate stays >= 2.5 mL/h. Undiluted
    # orders are covered by the tables above.
    return {
        "weight_kg": draw(st.decimals(min_value=30, max_value=300, places=1)),
        "dose_mg_per_kg": draw(st.decimals(min_value=D("0.05"), max_value=2, places=2)),
        "concentration_mg_per_ml": draw(st.sampled_from([10, 50, 100])),
        "diluent_volume_ml": draw(st.decimals(min_value=10, max_value=1000, places=1)),
        "duration_minutes": draw(st.integers(min_value=10, max_value=240)),
        "max_dose_mg": draw(
            st.none() | st.decimals(min_value=1, max_value=700, places=2)
        ),
        "max_dose_mg_per_kg": draw(
            st.none() | st.decimals(min_value=D("0.05"), max_value=2, places=3)
        ),
    }


@given(orders())
def test_dose_and_drawn_drug_never_exceed_a_cap(order: dict[str, object]) -> None:
    result = calculate_dose(**order)  # type: ignore[arg-type]  # strategy builds valid types

    drawn_mg = result.drug_volume_ml * D(str(order["concentration_mg_per_ml"]))
    max_dose_mg = order["max_dose_mg"]
    max_mg_per_kg = order["max_dose_mg_per_kg"]
    if isinstance(max_dose_mg, Decimal):
        assert result.dose_mg <= max_dose_mg
        assert drawn_mg <= max_dose_mg
    if isinstance(max_mg_per_kg, Decimal):
        assert result.dose_mg <= max_mg_per_kg * result.dosing_weight_kg
        assert drawn_mg <= max_mg_per_kg * result.dosing_weight_kg


@given(orders())
def test_rate_times_duration_gives_the_total_volume_within_rounding(
    order: dict[str, object],
) -> None:
    result = calculate_dose(**order)  # type: ignore[arg-type]  # strategy builds valid types

    minutes = D(str(order["duration_minutes"]))
    # rate x minutes / 60 = total, within half a rounding step of the rate (no division,
    # so the comparison itself is exact).
    error = abs(result.rate_ml_per_hour * minutes - result.total_volume_ml * 60)
    assert error <= PUMP_RATE_ROUNDING_ML_PER_HOUR / 2 * minutes
    assert result.total_volume_ml == result.drug_volume_ml + D(
        str(order["diluent_volume_ml"])
    )


@given(orders())
def test_drawn_drug_matches_the_dose_within_one_syringe_graduation(
    order: dict[str, object],
) -> None:
    result = calculate_dose(**order)  # type: ignore[arg-type]  # strategy builds valid types

    concentration = D(str(order["concentration_mg_per_ml"]))
    drawn_mg = result.drug_volume_ml * concentration
    assert abs(drawn_mg - result.dose_mg) < VOLUME_ROUNDING_ML * concentration
    assert result.dose_mg > 0


@pytest.mark.parametrize("module", [dosing, vitals])
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
