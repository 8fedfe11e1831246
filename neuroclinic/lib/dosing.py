"""Weight-based IV ketamine dose, dilution and pump rate.

Sources (ids expand in docs/sources.md; tags: [V] verified in the source, [S] a
secondary source only, [U] unverified, [P] one clinic's practice, [D] our design):
- Dose math is arithmetic only, worked through in docs/clinical/dosing.md [D].
- Standard research dose 0.5 mg/kg over 40 min (K3, K4, K5, K13); society starting
  range 0.5-1 mg/kg over 40-60 min (K10); studied range 0.1-1.0 mg/kg (K6);
  anesthetic induction 1-4.5 mg/kg, average 2 mg/kg (K11), never a depression dose.
- Vial strengths 10, 50 and 100 mg/mL; 100 mg/mL must be diluted before IV use,
  with at least an equal volume of diluent (Ketalar label, K11 [V]).
- Dosing weight: actual (landmark trials, K2), ideal by Devine (male 50 kg, female
  45.5 kg, + 2.3 kg per inch over 60 in; K2, K23) or adjusted
  (IBW + 0.4 x (actual - IBW); K23 formula, not ketamine-specific [U]).
- No authoritative maximum dose for depression was found [U]: the caps are inputs
  (clinic settings), never built in [D].

Units: kg, cm, mg, mg/kg, mg/mL, mL, minutes, mL/h, mg/min. Every quantity is a
Decimal (or an int, which is exact); floats are refused because 0.1 has no exact
binary value.

Policy (clinic defaults, to be signed off by the medical director): the rounding
steps, the plausibility limits and the warnings below are named constants. The
rule in prose, with worked tables, is docs/clinical/dosing.md.

Pure module: standard library only.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

# Rounding steps: clinic policy defaults [D], not from a source. A syringe reads to
# 0.01 mL and infusion pumps are programmed to 0.1 mL/h.
DOSE_ROUNDING_MG = Decimal("0.1")
VOLUME_ROUNDING_ML = Decimal("0.01")
PUMP_RATE_ROUNDING_ML_PER_HOUR = Decimal("0.1")
# Display-only values; 0.001 shows e.g. 0.875 mg/min and 0.397 mg/mL (the worked example
# in docs/clinical/dosing.md).
CONCENTRATION_ROUNDING_MG_PER_ML = Decimal("0.001")
DOSE_RATE_ROUNDING_MG_PER_MIN = Decimal("0.001")
# Warn when rounding the pump rate moves the infusion time by more than 1% [D]; at
# the usual 60-150 mL/h this never happens, with a few mL undiluted it does.
MAX_PUMP_RATE_ROUNDING_FRACTION = Decimal("0.01")
# Calculated dosing weights (IBW, adjusted) and lb_to_kg results [D].
WEIGHT_ROUNDING_KG = Decimal("0.1")

# Vial strengths on the US market (K11 [V], openFDA NDC records).
ALLOWED_CONCENTRATIONS_MG_PER_ML = (Decimal(10), Decimal(50), Decimal(100))
# 100 mg/mL must be diluted before IV use with at least an equal volume of sterile
# water, 0.9% NaCl or D5W (K11 [V]): diluent >= drug volume, so at most 50 mg/mL.
MUST_DILUTE_CONCENTRATION_MG_PER_ML = Decimal(100)
MAX_FINAL_CONCENTRATION_FROM_100_MG_PER_ML = Decimal(50)

# Plausible adult inputs [D]; outside them the input is more likely a unit error.
MIN_WEIGHT_KG = Decimal(30)
MAX_WEIGHT_KG = Decimal(300)
MIN_HEIGHT_CM = Decimal(100)
MAX_HEIGHT_CM = Decimal(250)
# Hard limits [D]: below the lowest studied dose 0.1 mg/kg (K6) with margin, and no
# higher than the average anesthetic induction dose 2 mg/kg (K11).
MIN_DOSE_MG_PER_KG = Decimal("0.05")
MAX_DOSE_MG_PER_KG = Decimal("2.0")
# Above 1 mg/kg: beyond the society starting range 0.5-1 mg/kg (K10) and the highest
# dose in the dose-ranging RCT (K6), and into anesthetic induction range (K11).
TYPICAL_MAX_DOSE_MG_PER_KG = Decimal("1.0")
# Session lengths of 2-100 min are reported (K3); 10-240 min is the accepted input [D].
MIN_DURATION_MINUTES = Decimal(10)
MAX_DURATION_MINUTES = Decimal(240)
# 40 min is the standard research infusion (K3, K4, K5, K13); rapid IV
# administration can cause respiratory depression (K11).
STANDARD_MIN_DURATION_MINUTES = Decimal(40)
# Bags in the label's dilution text are 250 and 500 mL (K11 [S]); 1000 mL is the cap [D].
MAX_DILUENT_VOLUME_ML = Decimal(1000)

# Devine formula (K23 [V formula]).
CM_PER_INCH = Decimal("2.54")
DEVINE_BASE_HEIGHT_INCHES = Decimal(60)
DEVINE_KG_PER_INCH = Decimal("2.3")
DEVINE_BASE_KG_MALE = Decimal(50)
DEVINE_BASE_KG_FEMALE = Decimal("45.5")
# Adjusted body weight factor (K23 [V formula]).
ADJUSTED_WEIGHT_FACTOR = Decimal("0.4")

# The international avoirdupois pound is defined as exactly 0.45359237 kg.
KG_PER_LB = Decimal("0.45359237")

_MINUTES_PER_HOUR = Decimal(60)


class DosingWeightRule(StrEnum):
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


class Sex(StrEnum):
    """Sex for the Devine formula, which has only these two constants (K23)."""

    MALE = "male"
    FEMALE = "female"


class CapReason(StrEnum):
    MAX_DOSE_MG = "max_dose_mg"
    MAX_DOSE_MG_PER_KG = "max_dose_mg_per_kg"


class DoseInputError(ValueError):
    """An input the calculator refuses; `field` names the offending argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DoseCalculation:
    dosing_weight_kg: Decimal
    dose_mg: Decimal
    drug_volume_ml: Decimal  # volume drawn from the vial
    total_volume_ml: Decimal  # drug + diluent
    final_concentration_mg_per_ml: Decimal
    rate_ml_per_hour: Decimal
    dose_rate_mg_per_min: Decimal
    capped: bool  # True when a cap, not the weight, decided the dose
    cap_reason: CapReason | None
    warnings: tuple[str, ...]
    working: tuple[str, ...]  # the arithmetic, one step per line, for the record


def lb_to_kg(weight_lb: Decimal | int) -> Decimal:
    """Pounds to kilograms, rounded to WEIGHT_ROUNDING_KG."""
    pounds = _quantity(weight_lb, field="weight_lb")
    if pounds <= 0:
        raise DoseInputError("weight_lb", "weight_lb must be greater than 0")
    return (pounds * KG_PER_LB).quantize(WEIGHT_ROUNDING_KG, ROUND_HALF_UP)


def check_weight_kg(weight_kg: Decimal | int) -> Decimal:
    """The weight if it is a plausible adult weight in kg; DoseInputError naming
    `weight_kg` otherwise, with a hint when it looks like pounds or grams."""
    return _weight_kg(weight_kg)


def check_height_cm(height_cm: Decimal | int) -> Decimal:
    """The height if it is a plausible adult height in cm; DoseInputError naming
    `height_cm` otherwise, with a hint when it looks like inches."""
    return _height_cm(height_cm)


def ideal_body_weight_kg(*, height_cm: Decimal | int, sex: Sex | str) -> Decimal:
    """Devine ideal body weight, rounded to WEIGHT_ROUNDING_KG.

    Below 60 in (152.4 cm) the formula would go under its base weight; the result
    is held at the base (50 / 45.5 kg) instead, and calculate_dose() warns.
    """
    height = _height_cm(height_cm)
    base_kg = _base_kg(_sex(sex))
    inches_over_base = height / CM_PER_INCH - DEVINE_BASE_HEIGHT_INCHES
    ibw_kg = base_kg + DEVINE_KG_PER_INCH * max(inches_over_base, Decimal(0))
    return ibw_kg.quantize(WEIGHT_ROUNDING_KG, ROUND_HALF_UP)


def adjusted_body_weight_kg(
    *, actual_weight_kg: Decimal | int, ideal_weight_kg: Decimal | int
) -> Decimal:
    """IBW + 0.4 x (actual - IBW), rounded to WEIGHT_ROUNDING_KG.

    Meant for patients above their IBW; calculate_dose() uses the actual weight
    when it is below the IBW.
    """
    actual = _quantity(actual_weight_kg, field="weight_kg")
    ideal = _quantity(ideal_weight_kg, field="ideal_weight_kg")
    adjusted = ideal + ADJUSTED_WEIGHT_FACTOR * (actual - ideal)
    return adjusted.quantize(WEIGHT_ROUNDING_KG, ROUND_HALF_UP)


def calculate_dose(
    *,
    weight_kg: Decimal | int,
    dose_mg_per_kg: Decimal | int,
    concentration_mg_per_ml: Decimal | int,
    diluent_volume_ml: Decimal | int,
    duration_minutes: Decimal | int,
    dosing_weight_rule: DosingWeightRule | str = DosingWeightRule.ACTUAL,
    height_cm: Decimal | int | None = None,
    sex: Sex | str | None = None,
    max_dose_mg: Decimal | int | None = None,
    max_dose_mg_per_kg: Decimal | int | None = None,
) -> DoseCalculation:
    """Dose, drawn volume, bag volume, concentration and pump rate for one infusion.

    `diluent_volume_ml` is the diluent actually in the bag (after any volume the
    clinic withdraws first); bag overfill is not modelled (how much a bag holds over its label is unknown [U]).
    Raises DoseInputError, naming the field, for any refused input.
    """
    actual_kg = _weight_kg(weight_kg)
    mg_per_kg = _dose_mg_per_kg(dose_mg_per_kg)
    concentration = _concentration(concentration_mg_per_ml)
    diluent_ml = _diluent_ml(diluent_volume_ml)
    minutes = _duration_minutes(duration_minutes)
    rule = _rule(dosing_weight_rule)
    cap_mg = _positive_cap(max_dose_mg, field="max_dose_mg")
    cap_mg_per_kg = _positive_cap(max_dose_mg_per_kg, field="max_dose_mg_per_kg")

    warnings: list[str] = []
    working: list[str] = []

    dosing_kg = _dosing_weight_kg(
        actual_kg=actual_kg,
        rule=rule,
        height_cm=height_cm,
        sex=sex,
        warnings=warnings,
        working=working,
    )

    if mg_per_kg > TYPICAL_MAX_DOSE_MG_PER_KG:
        warnings.append(
            f"{_f(mg_per_kg)} mg/kg is above the usual 0.5-1 mg/kg starting range "
            "(K10) and at anesthetic induction levels (1-4.5 mg/kg, K11)."
        )
    if minutes < STANDARD_MIN_DURATION_MINUTES:
        warnings.append(
            f"{_f(minutes)} min is shorter than the standard 40 min infusion "
            "(K4, K5); rapid IV administration can cause respiratory depression (K11)."
        )

    raw_dose_mg = mg_per_kg * dosing_kg
    dose_mg = raw_dose_mg.quantize(DOSE_ROUNDING_MG, ROUND_HALF_UP)
    working.append(
        f"Dose: {_f(mg_per_kg)} mg/kg x {_f(dosing_kg)} kg = {_f(raw_dose_mg)} mg"
        f" -> {_f(dose_mg)} mg (rounded to {_f(DOSE_ROUNDING_MG)} mg)"
    )

    limit_mg, cap_reason = _binding_cap(
        dosing_kg=dosing_kg, cap_mg=cap_mg, cap_mg_per_kg=cap_mg_per_kg, working=working
    )
    capped = False
    if limit_mg is not None and dose_mg > limit_mg:
        cap_text = (
            "the absolute cap (max_dose_mg)"
            if cap_reason is CapReason.MAX_DOSE_MG
            else "the mg/kg ceiling (max_dose_mg_per_kg)"
        )
        warnings.append(
            f"Dose capped at {_f(limit_mg)} mg by {cap_text}; "
            f"{_f(mg_per_kg)} mg/kg would have been {_f(dose_mg)} mg."
        )
        working.append(f"Cap applies: dose {_f(dose_mg)} mg -> {_f(limit_mg)} mg")
        dose_mg = limit_mg
        capped = True
        if dose_mg <= 0:
            raise DoseInputError(
                str(cap_reason),
                f"{cap_reason} leaves no dose to give ({_f(dose_mg)} mg)",
            )
    if not capped:
        cap_reason = None

    drug_volume_ml = _drug_volume_ml(
        dose_mg=dose_mg, concentration=concentration, limit_mg=limit_mg
    )
    working.append(
        f"Drug volume: {_f(dose_mg)} mg / {_f(concentration)} mg/mL = "
        f"{_f(dose_mg / concentration)} mL -> {_f(drug_volume_ml)} mL"
    )
    if drug_volume_ml == 0:
        raise DoseInputError(
            "concentration_mg_per_ml",
            f"{_f(dose_mg)} mg is less than one {_f(VOLUME_ROUNDING_ML)} mL syringe "
            f"graduation of {_f(concentration)} mg/mL: use a lower-strength vial",
        )
    drawn_mg = drug_volume_ml * concentration
    if drawn_mg != dose_mg:
        warnings.append(
            f"{_f(drug_volume_ml)} mL of {_f(concentration)} mg/mL holds {_f(drawn_mg)} mg, "
            f"not {_f(dose_mg)} mg: a syringe reads to {_f(VOLUME_ROUNDING_ML)} mL. "
            "A lower-strength vial measures this dose more exactly."
        )

    total_volume_ml = drug_volume_ml + diluent_ml
    working.append(
        f"Total volume: {_f(drug_volume_ml)} mL drug + {_f(diluent_ml)} mL diluent"
        f" = {_f(total_volume_ml)} mL"
    )

    if concentration == MUST_DILUTE_CONCENTRATION_MG_PER_ML:
        _require_label_dilution(drug_volume_ml=drug_volume_ml, diluent_ml=diluent_ml)

    final_concentration = (dose_mg / total_volume_ml).quantize(
        CONCENTRATION_ROUNDING_MG_PER_ML, ROUND_HALF_UP
    )
    working.append(
        f"Final concentration: {_f(dose_mg)} mg / {_f(total_volume_ml)} mL"
        f" = {_f(final_concentration)} mg/mL"
    )

    raw_rate = total_volume_ml * _MINUTES_PER_HOUR / minutes
    rate_ml_per_hour = raw_rate.quantize(PUMP_RATE_ROUNDING_ML_PER_HOUR, ROUND_HALF_UP)
    working.append(
        f"Pump rate: {_f(total_volume_ml)} mL x 60 / {_f(minutes)} min"
        f" = {_f(_tidy(raw_rate))} mL/h -> {_f(rate_ml_per_hour)} mL/h"
    )
    if rate_ml_per_hour == 0:
        raise DoseInputError(
            "diluent_volume_ml",
            f"{_f(total_volume_ml)} mL over {_f(minutes)} min is a pump rate of "
            f"{_f(_tidy(raw_rate))} mL/h, which rounds to 0 mL/h: add diluent",
        )
    pump_minutes = total_volume_ml * _MINUTES_PER_HOUR / rate_ml_per_hour
    if abs(pump_minutes - minutes) > minutes * MAX_PUMP_RATE_ROUNDING_FRACTION:
        warnings.append(
            f"At {_f(rate_ml_per_hour)} mL/h the {_f(total_volume_ml)} mL runs for "
            f"{_f(pump_minutes.quantize(Decimal('0.1'), ROUND_HALF_UP))} min, not "
            f"{_f(minutes)} min (pump rate rounding); more diluent makes the rate more exact."
        )

    dose_rate = (dose_mg / minutes).quantize(
        DOSE_RATE_ROUNDING_MG_PER_MIN, ROUND_HALF_UP
    )
    working.append(
        f"Dose rate: {_f(dose_mg)} mg / {_f(minutes)} min = {_f(dose_rate)} mg/min"
    )

    return DoseCalculation(
        dosing_weight_kg=dosing_kg,
        dose_mg=dose_mg,
        drug_volume_ml=drug_volume_ml,
        total_volume_ml=total_volume_ml,
        final_concentration_mg_per_ml=final_concentration,
        rate_ml_per_hour=rate_ml_per_hour,
        dose_rate_mg_per_min=dose_rate,
        capped=capped,
        cap_reason=cap_reason,
        warnings=tuple(warnings),
        working=tuple(working),
    )


def _dosing_weight_kg(
    *,
    actual_kg: Decimal,
    rule: DosingWeightRule,
    height_cm: Decimal | int | None,
    sex: Sex | str | None,
    warnings: list[str],
    working: list[str],
) -> Decimal:
    if rule is DosingWeightRule.ACTUAL:
        working.append(f"Dosing weight: actual body weight {_f(actual_kg)} kg")
        return actual_kg

    if height_cm is None:
        raise DoseInputError(
            "height_cm", f"height_cm is required for {rule} body weight"
        )
    if sex is None:
        raise DoseInputError("sex", f"sex is required for {rule} body weight")
    height = _height_cm(height_cm)
    patient_sex = _sex(sex)
    base_kg = _base_kg(patient_sex)
    ibw_kg = ideal_body_weight_kg(height_cm=height, sex=patient_sex)

    inches = (height / CM_PER_INCH).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if height / CM_PER_INCH < DEVINE_BASE_HEIGHT_INCHES:
        warnings.append(
            f"Height {_f(height)} cm is under 5 ft (152.4 cm), where the Devine "
            f"formula is not defined; IBW held at its base of {_f(base_kg)} kg."
        )
        working.append(
            f"IBW (Devine, {patient_sex}): {_f(height)} cm = {_f(inches)} in, under 60 in"
            f" -> base {_f(ibw_kg)} kg"
        )
    else:
        working.append(
            f"IBW (Devine, {patient_sex}): {_f(height)} cm / 2.54 = {_f(inches)} in; "
            f"{_f(base_kg)} + 2.3 x ({_f(inches)} - 60) = {_f(ibw_kg)} kg"
        )

    if actual_kg < ibw_kg:
        warnings.append(
            f"Actual weight {_f(actual_kg)} kg is below the ideal body weight "
            f"{_f(ibw_kg)} kg; the actual weight is used so the dose is not raised."
        )
        working.append(
            f"Dosing weight: actual {_f(actual_kg)} kg (below IBW {_f(ibw_kg)} kg)"
        )
        return actual_kg

    if rule is DosingWeightRule.IDEAL:
        working.append(f"Dosing weight: ideal body weight {_f(ibw_kg)} kg")
        return ibw_kg

    adjusted_kg = adjusted_body_weight_kg(
        actual_weight_kg=actual_kg, ideal_weight_kg=ibw_kg
    )
    working.append(
        f"Adjusted body weight: {_f(ibw_kg)} + 0.4 x ({_f(actual_kg)} - {_f(ibw_kg)})"
        f" = {_f(adjusted_kg)} kg"
    )
    working.append(f"Dosing weight: adjusted body weight {_f(adjusted_kg)} kg")
    return adjusted_kg


def _binding_cap(
    *,
    dosing_kg: Decimal,
    cap_mg: Decimal | None,
    cap_mg_per_kg: Decimal | None,
    working: list[str],
) -> tuple[Decimal | None, CapReason | None]:
    """The lowest cap in mg, rounded down so the dose can never exceed it."""
    limits: list[tuple[Decimal, CapReason]] = []
    if cap_mg is not None:
        limits.append((cap_mg, CapReason.MAX_DOSE_MG))
        working.append(f"Absolute cap: {_f(cap_mg)} mg")
    if cap_mg_per_kg is not None:
        per_kg_limit = cap_mg_per_kg * dosing_kg
        limits.append((per_kg_limit, CapReason.MAX_DOSE_MG_PER_KG))
        working.append(
            f"Ceiling: {_f(cap_mg_per_kg)} mg/kg x {_f(dosing_kg)} kg = {_f(per_kg_limit)} mg"
        )
    if not limits:
        return None, None
    # min() keeps the first of equal limits, so a tie is reported as the absolute cap.
    limit, reason = min(limits, key=lambda item: item[0])
    return limit.quantize(DOSE_ROUNDING_MG, ROUND_DOWN), reason


def _drug_volume_ml(
    *, dose_mg: Decimal, concentration: Decimal, limit_mg: Decimal | None
) -> Decimal:
    volume_ml = (dose_mg / concentration).quantize(VOLUME_ROUNDING_ML, ROUND_HALF_UP)
    # Rounding the drawn volume up must not put more drug in the bag than a cap allows.
    if limit_mg is not None and volume_ml * concentration > limit_mg:
        volume_ml = (dose_mg / concentration).quantize(VOLUME_ROUNDING_ML, ROUND_DOWN)
    return volume_ml


def _require_label_dilution(*, drug_volume_ml: Decimal, diluent_ml: Decimal) -> None:
    if diluent_ml == 0:
        raise DoseInputError(
            "diluent_volume_ml",
            "100 mg/mL ketamine must be diluted before IV use (K11): "
            "diluent_volume_ml must be greater than 0",
        )
    if diluent_ml < drug_volume_ml:
        raise DoseInputError(
            "diluent_volume_ml",
            "100 mg/mL ketamine must be diluted with at least an equal volume (K11), "
            f"so at most {_f(MAX_FINAL_CONCENTRATION_FROM_100_MG_PER_ML)} mg/mL: "
            f"diluent_volume_ml must be at least {_f(drug_volume_ml)} mL",
        )


def _quantity(value: object, *, field: str) -> Decimal:
    # bool is an int subclass; True as a weight is a bug, not 1 kg.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise DoseInputError(
            field,
            f"{field} must be a Decimal or an int, not {type(value).__name__}"
            " (floats cannot hold values like 0.1 exactly)",
        )
    quantity = Decimal(value)
    if not quantity.is_finite():
        raise DoseInputError(field, f"{field} must be a finite number, not {quantity}")
    return quantity


def _weight_kg(value: object) -> Decimal:
    weight = _quantity(value, field="weight_kg")
    if MIN_WEIGHT_KG <= weight <= MAX_WEIGHT_KG:
        return weight
    hint = "check the unit"
    as_kg_if_lb = weight * KG_PER_LB
    if weight > MAX_WEIGHT_KG and MIN_WEIGHT_KG <= as_kg_if_lb <= MAX_WEIGHT_KG:
        hint = (
            f"if {_f(weight)} is in pounds, that is {_f(lb_to_kg(weight))} kg"
            " (use lb_to_kg)"
        )
    elif weight > MAX_WEIGHT_KG:
        hint = "check the unit (pounds or grams entered as kilograms?)"
    raise DoseInputError(
        "weight_kg",
        f"weight_kg {_f(weight)} is outside the plausible adult range "
        f"{_f(MIN_WEIGHT_KG)}-{_f(MAX_WEIGHT_KG)} kg; {hint}",
    )


def _height_cm(value: object) -> Decimal:
    height = _quantity(value, field="height_cm")
    if MIN_HEIGHT_CM <= height <= MAX_HEIGHT_CM:
        return height
    hint = ""
    if height > 0 and MIN_HEIGHT_CM <= height * CM_PER_INCH <= MAX_HEIGHT_CM:
        hint = f"; if {_f(height)} is in inches, that is {_f(height * CM_PER_INCH)} cm"
    raise DoseInputError(
        "height_cm",
        f"height_cm {_f(height)} is outside the plausible adult range "
        f"{_f(MIN_HEIGHT_CM)}-{_f(MAX_HEIGHT_CM)} cm{hint}",
    )


def _dose_mg_per_kg(value: object) -> Decimal:
    mg_per_kg = _quantity(value, field="dose_mg_per_kg")
    if not MIN_DOSE_MG_PER_KG <= mg_per_kg <= MAX_DOSE_MG_PER_KG:
        raise DoseInputError(
            "dose_mg_per_kg",
            f"dose_mg_per_kg {_f(mg_per_kg)} is outside {_f(MIN_DOSE_MG_PER_KG)}-"
            f"{_f(MAX_DOSE_MG_PER_KG)} mg/kg (depression doses are 0.1-1 mg/kg, K6, K10)",
        )
    return mg_per_kg


def _concentration(value: object) -> Decimal:
    concentration = _quantity(value, field="concentration_mg_per_ml")
    if concentration not in ALLOWED_CONCENTRATIONS_MG_PER_ML:
        raise DoseInputError(
            "concentration_mg_per_ml",
            f"concentration_mg_per_ml must be 10, 50 or 100 (the vial strengths, K11), "
            f"not {_f(concentration)}",
        )
    return concentration


def _diluent_ml(value: object) -> Decimal:
    diluent = _quantity(value, field="diluent_volume_ml")
    if not 0 <= diluent <= MAX_DILUENT_VOLUME_ML:
        raise DoseInputError(
            "diluent_volume_ml",
            f"diluent_volume_ml {_f(diluent)} must be 0-{_f(MAX_DILUENT_VOLUME_ML)} mL",
        )
    return diluent


def _duration_minutes(value: object) -> Decimal:
    minutes = _quantity(value, field="duration_minutes")
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise DoseInputError(
            "duration_minutes",
            f"duration_minutes {_f(minutes)} must be "
            f"{_f(MIN_DURATION_MINUTES)}-{_f(MAX_DURATION_MINUTES)} min",
        )
    return minutes


def _positive_cap(value: Decimal | int | None, *, field: str) -> Decimal | None:
    if value is None:
        return None
    cap = _quantity(value, field=field)
    if cap <= 0:
        raise DoseInputError(field, f"{field} must be greater than 0 when given")
    return cap


def _rule(value: DosingWeightRule | str) -> DosingWeightRule:
    try:
        return DosingWeightRule(value)
    except (ValueError, TypeError):
        raise DoseInputError(
            "dosing_weight_rule",
            f"dosing_weight_rule must be one of actual, ideal, adjusted; not {value!r}",
        ) from None


def _sex(value: Sex | str) -> Sex:
    try:
        return Sex(value)
    except (ValueError, TypeError):
        raise DoseInputError(
            "sex",
            f"sex must be male or female (the Devine formula's two constants), not {value!r}",
        ) from None


def _base_kg(sex: Sex) -> Decimal:
    return DEVINE_BASE_KG_MALE if sex is Sex.MALE else DEVINE_BASE_KG_FEMALE


def _tidy(value: Decimal) -> Decimal:
    """Trim a long quotient for display in the working (the result is rounded separately)."""
    return value.quantize(Decimal("0.001"), ROUND_HALF_UP)


def _f(value: Decimal) -> str:
    # Fixed-point text: never "1E+2" in a clinical record.
    return format(value, "f")
