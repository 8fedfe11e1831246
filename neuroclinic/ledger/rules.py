"""Controlled-substance ledger rules for ketamine (DEA Schedule III).

Sources (ids listed in docs/sources.md):
- Ketamine is Schedule III, DEA code 7285 (21 CFR 1308.13(c); D11).
- Dispenser records: units or volume administered, wasted or otherwise disposed of,
  with date and the person who did it (21 CFR 1304.22(c); D6); wastage must be
  recorded (D10).
- Per-infusion reconciliation, drawn = administered + wasted: our design, from the
  record-keeping duties above (D5, D6, D10); no source states it as a rule.
- Witnessed waste: no federal witness count (D10); two-person waste is common
  policy and often a state or accreditor rule (no source read for that), so the
  permitted witness roles are an input.
- Theft or significant loss: written notice to the DEA Field Division Office within
  1 business day of discovery; DEA Form 106 within 45 days of discovery (since
  24 Jul 2023) (D9). The notice and the form have separate deadlines: "Form 106
  within one business day", seen in product comparisons, runs the two together.
- Biennial inventory at least every 2 years after the previous one (D7, a
  compliance summary; D1).
- DEA registration number format and check digit: no source id. Public
  descriptions (Wikipedia "DEA number"; DEA registration record layout) agree on
  2 letters + 7 digits and the check digit; they differ on which first letters exist
  (see REGISTRANT_TYPE_LETTERS). Secondary sources: re-check before go-live.

Units: mL, mg, mg/mL; dates are calendar dates at the registered location.

Every refusal is a LedgerRuleError with a stable `code`. The rules in prose:
docs/clinical/ledger-rules.md.

Pure module: standard library only.
"""

import calendar
from collections.abc import Collection, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from uuid import UUID

# Ledger rounding (our policy): a syringe reads to 0.01 mL; 0.01 mg keeps mL -> mg exact for
# every vial strength (10, 50, 100 mg/mL; K11).
VOLUME_ROUNDING_ML = Decimal("0.01")
MASS_ROUNDING_MG = Decimal("0.01")

# First letter of a DEA number = registrant type. This list follows Wikipedia's
# table, a secondary source (A deprecated, B hospital/clinic, C practitioner, D teaching institution,
# E manufacturer, F distributor, G researcher, H analytical lab, J importer,
# K exporter, L reverse distributor, M mid-level practitioner, P-U narcotic treatment
# program, X buprenorphine (DATA-waiver) prescriber). DEA's own record layout lists
# only A/B/F/G, M, P/R (and X); some lists also add N. Unknown letters are refused.
REGISTRANT_TYPE_LETTERS = frozenset("ABCDEFGHJKLMPRSTUX")
# Second character: first letter of the registrant's last or business name, or "9"
# when a business name starts with a digit (same sources).
DEA_NUMBER_LENGTH = 9

# D9: notice within 1 business day; Form 106 within 45 days of discovery.
DEA_NOTICE_BUSINESS_DAYS = 1
FORM_106_DAYS = 45
# D7, D1: at least every 2 years.
BIENNIAL_INVENTORY_YEARS = 2

_SATURDAY = 5

type UserId = int | str | UUID


class LedgerRuleCode(StrEnum):
    DEA_NUMBER_FORMAT = "dea_number_format"
    DEA_REGISTRANT_TYPE = "dea_registrant_type"
    DEA_SECOND_CHARACTER = "dea_second_character"
    DEA_CHECK_DIGIT = "dea_check_digit"
    NOT_A_QUANTITY = "not_a_quantity"
    NOT_A_DATE = "not_a_date"
    NAIVE_DATETIME = "naive_datetime"
    NEGATIVE_QUANTITY = "negative_quantity"
    CONCENTRATION_NOT_POSITIVE = "concentration_not_positive"
    DRAW_NOT_POSITIVE = "draw_not_positive"
    DRAW_EXCEEDS_BALANCE = "draw_exceeds_balance"
    LOT_EXPIRED = "lot_expired"
    SESSION_UNRECONCILED = "session_unreconciled"
    WITNESS_MISSING = "witness_missing"
    WITNESS_IS_ACTOR = "witness_is_actor"
    WITNESS_ROLE_NOT_PERMITTED = "witness_role_not_permitted"
    QUANTITY_NOT_POSITIVE = "quantity_not_positive"
    QUANTITY_TOO_PRECISE = "quantity_too_precise"
    BALANCE_BELOW_ZERO = "balance_below_zero"


class LedgerRuleError(ValueError):
    """A refused ledger movement or value; `code` is stable, the message is for people."""

    def __init__(self, code: LedgerRuleCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CountVariance:
    variance_ml: Decimal  # counted - expected: negative is a shortage
    is_discrepancy: bool


@dataclass(frozen=True)
class DiscrepancyDueDates:
    dea_notice_due_date: date  # written notice to the DEA Field Division Office
    form_106_due_date: date  # DEA Form 106 via Theft/Loss Reporting online


# --- DEA registration numbers -------------------------------------------------------


def validate_dea_number(value: object) -> str:
    """The number, trimmed and upper-cased, or LedgerRuleError saying what is wrong.

    Check digit: with digits d1..d7, the last digit of
    (d1 + d3 + d5) + 2 x (d2 + d4 + d6) must equal d7. A valid check digit only
    catches typing slips; it does not prove a registration exists or is current.
    """
    if not isinstance(value, str):
        raise LedgerRuleError(
            LedgerRuleCode.DEA_NUMBER_FORMAT,
            f"A DEA number is text, not {type(value).__name__}",
        )
    number = value.strip().upper()
    digits = number[2:]
    if len(number) != DEA_NUMBER_LENGTH or not (digits.isascii() and digits.isdigit()):
        raise LedgerRuleError(
            LedgerRuleCode.DEA_NUMBER_FORMAT,
            f"{number!r} is not a DEA number: expected 2 letters and 7 digits, e.g. AB1234563",
        )
    if number[0] not in REGISTRANT_TYPE_LETTERS:
        raise LedgerRuleError(
            LedgerRuleCode.DEA_REGISTRANT_TYPE,
            f"{number}: {number[0]!r} is not a DEA registrant-type letter "
            f"({', '.join(sorted(REGISTRANT_TYPE_LETTERS))})",
        )
    second = number[1]
    if not (second == "9" or ("A" <= second <= "Z")):
        raise LedgerRuleError(
            LedgerRuleCode.DEA_SECOND_CHARACTER,
            f"{number}: the second character must be a letter (the registrant's name) or 9",
        )
    d = [int(character) for character in digits]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    if check != d[6]:
        raise LedgerRuleError(
            LedgerRuleCode.DEA_CHECK_DIGIT,
            f"{number}: check digit is {d[6]} but should be {check}; check for a typing slip",
        )
    return number


def is_valid_dea_number(value: object) -> bool:
    try:
        validate_dea_number(value)
    except LedgerRuleError:
        return False
    return True


# --- Quantities ------------------------------------------------------------------


def mg_from_ml(
    *, volume_ml: Decimal | int, concentration_mg_per_ml: Decimal | int
) -> Decimal:
    """Milligrams in a volume, rounded to MASS_ROUNDING_MG."""
    volume = _quantity(volume_ml, field="volume_ml")
    concentration = _concentration(concentration_mg_per_ml)
    if volume < 0:
        raise LedgerRuleError(
            LedgerRuleCode.NEGATIVE_QUANTITY, "volume_ml must not be negative"
        )
    return (volume * concentration).quantize(MASS_ROUNDING_MG, ROUND_HALF_UP)


def ml_from_mg(
    *, mass_mg: Decimal | int, concentration_mg_per_ml: Decimal | int
) -> Decimal:
    """Millilitres holding a mass, rounded to VOLUME_ROUNDING_ML."""
    mass = _quantity(mass_mg, field="mass_mg")
    concentration = _concentration(concentration_mg_per_ml)
    if mass < 0:
        raise LedgerRuleError(
            LedgerRuleCode.NEGATIVE_QUANTITY, "mass_mg must not be negative"
        )
    return (mass / concentration).quantize(VOLUME_ROUNDING_ML, ROUND_HALF_UP)


# --- Movements -------------------------------------------------------------------


def check_draw(
    *,
    container_balance_ml: Decimal | int,
    draw_ml: Decimal | int,
    lot_expiry_date: date,
    on_date: date,
) -> None:
    """Refuse a draw that is not positive, exceeds the container, or uses an expired lot.

    `lot_expiry_date` is the last day the lot may be used: a draw on that date is
    allowed, the day after is not. Store a month-only label ("EXP 03/2027") as the
    last day of that month.
    """
    balance = _quantity(container_balance_ml, field="container_balance_ml")
    draw = _quantity(draw_ml, field="draw_ml")
    expiry = _date(lot_expiry_date, field="lot_expiry_date")
    today = _date(on_date, field="on_date")
    if balance < 0:
        raise LedgerRuleError(
            LedgerRuleCode.NEGATIVE_QUANTITY,
            f"container balance {balance} mL is negative: the ledger needs correcting first",
        )
    if draw <= 0:
        raise LedgerRuleError(
            LedgerRuleCode.DRAW_NOT_POSITIVE,
            f"a draw must be more than 0 mL, not {draw} mL",
        )
    if draw > balance:
        raise LedgerRuleError(
            LedgerRuleCode.DRAW_EXCEEDS_BALANCE,
            f"cannot draw {draw} mL: the container holds {balance} mL",
        )
    if today > expiry:
        raise LedgerRuleError(
            LedgerRuleCode.LOT_EXPIRED,
            f"the lot expired on {expiry.isoformat()}; it cannot be drawn on {today.isoformat()}",
        )


def check_session_reconciles(
    *, drawn_ml: Decimal | int, administered_ml: Decimal | int, wasted_ml: Decimal | int
) -> None:
    """Refuse unless drawn = administered + wasted exactly (our design from D5, D6, D10).

    Exact: any difference, however small, is unaccounted drug and goes to the
    discrepancy workflow, not into rounding.
    """
    drawn = _quantity(drawn_ml, field="drawn_ml")
    administered = _quantity(administered_ml, field="administered_ml")
    wasted = _quantity(wasted_ml, field="wasted_ml")
    for name, amount in (
        ("drawn_ml", drawn),
        ("administered_ml", administered),
        ("wasted_ml", wasted),
    ):
        if amount < 0:
            raise LedgerRuleError(
                LedgerRuleCode.NEGATIVE_QUANTITY,
                f"{name} must not be negative, not {amount}",
            )
    accounted = administered + wasted
    if drawn != accounted:
        difference = drawn - accounted
        what = "unaccounted for" if difference > 0 else "more than was drawn"
        raise LedgerRuleError(
            LedgerRuleCode.SESSION_UNRECONCILED,
            f"drawn {drawn} mL but administered {administered} mL + wasted {wasted} mL "
            f"= {accounted} mL: {abs(difference)} mL {what}",
        )


def check_witness(
    *,
    actor_id: UserId,
    witness_id: UserId | None,
    witness_roles: Collection[str],
    permitted_roles: Set[str],
) -> None:
    """Refuse a waste (or count) without a second person who holds a permitted role."""
    if witness_id is None or witness_id == "":
        raise LedgerRuleError(LedgerRuleCode.WITNESS_MISSING, "a witness is required")
    if witness_id == actor_id:
        raise LedgerRuleError(
            LedgerRuleCode.WITNESS_IS_ACTOR,
            "the witness must be someone other than the actor",
        )
    if permitted_roles.isdisjoint(witness_roles):
        allowed = ", ".join(sorted(permitted_roles)) or "none configured"
        raise LedgerRuleError(
            LedgerRuleCode.WITNESS_ROLE_NOT_PERMITTED,
            f"the witness holds none of the roles permitted to witness ({allowed})",
        )


def check_movement_quantity(
    value: Decimal | int, *, field: str = "quantity_ml"
) -> Decimal:
    """A quantity to move: more than 0 and on the 0.01 grid (no silent rounding)."""
    quantity = _quantity(value, field=field)
    if quantity <= 0:
        raise LedgerRuleError(
            LedgerRuleCode.QUANTITY_NOT_POSITIVE,
            f"{field} must be more than 0, not {quantity}",
        )
    if quantity != quantity.quantize(VOLUME_ROUNDING_ML):
        raise LedgerRuleError(
            LedgerRuleCode.QUANTITY_TOO_PRECISE,
            f"{field} {quantity} has more than two decimal places; measure to 0.01 mL",
        )
    return quantity


def check_balance_not_below_zero(
    *, balance_ml: Decimal | int, change_ml: Decimal | int, what: str
) -> Decimal:
    """The balance after a change, or LedgerRuleError if it would go below zero.

    Applies to a container, a lot and a session's drawn-but-unaccounted amount; a
    location's and a lot's balances are sums of containers that each pass this.
    """
    balance = _quantity(balance_ml, field="balance_ml")
    change = _quantity(change_ml, field="change_ml")
    after = balance + change
    if after < 0:
        raise LedgerRuleError(
            LedgerRuleCode.BALANCE_BELOW_ZERO,
            f"{what} holds {balance} mL; taking {-change} mL would leave {after} mL",
        )
    return after


def count_variance(
    *,
    expected_ml: Decimal | int,
    counted_ml: Decimal | int,
    estimated: bool,
    estimate_tolerance_ml: Decimal | int = 0,
) -> CountVariance:
    """Counted against expected for one container.

    Sealed containers are counted exactly: any difference is a discrepancy. An
    opened container may be estimated (Schedule III-V, D7b); an estimate within
    `estimate_tolerance_ml` of the ledger is recorded but opens no discrepancy.
    The tolerance is a clinic setting whose default, 0, flags every difference.
    """
    expected = _quantity(expected_ml, field="expected_ml")
    counted = _quantity(counted_ml, field="counted_ml")
    tolerance = _quantity(estimate_tolerance_ml, field="estimate_tolerance_ml")
    for name, amount in (("expected_ml", expected), ("counted_ml", counted)):
        if amount < 0:
            raise LedgerRuleError(
                LedgerRuleCode.NEGATIVE_QUANTITY,
                f"{name} must not be negative, not {amount}",
            )
    variance = counted - expected
    allowed = tolerance if estimated else Decimal(0)
    return CountVariance(variance_ml=variance, is_discrepancy=abs(variance) > allowed)


# --- Due dates -------------------------------------------------------------------


def discrepancy_due_dates(
    discovered_at: datetime,
    *,
    clinic_timezone: tzinfo | None = None,
    holidays: Collection[date] = (),
) -> DiscrepancyDueDates:
    """Due dates after discovering a theft or significant loss (D9).

    The discovery date is the calendar date at the clinic: pass `clinic_timezone`, or
    a `discovered_at` already in clinic local time. The DEA notice is due by the end of
    the next business day: Saturdays, Sundays and any date in `holidays` are skipped.
    Federal holidays are not built in; pass the ones the clinic observes. Form 106 is
    due 45 calendar days after discovery and is not moved off a weekend.
    """
    aware = _aware_datetime(discovered_at, field="discovered_at")
    local = aware if clinic_timezone is None else aware.astimezone(clinic_timezone)
    discovered = local.date()

    notice = discovered
    business_days = 0
    while business_days < DEA_NOTICE_BUSINESS_DAYS:
        notice += timedelta(days=1)
        if notice.weekday() < _SATURDAY and notice not in holidays:
            business_days += 1
    return DiscrepancyDueDates(
        dea_notice_due_date=notice,
        form_106_due_date=discovered + timedelta(days=FORM_106_DAYS),
    )


def biennial_inventory_due(last_inventory_date: date) -> date:
    """Two years after the last inventory; from 29 February, 28 February.

    28 February, not 1 March, because the rule is "at least every 2 years": the
    earlier date never lets the inventory run late.
    """
    last = _date(last_inventory_date, field="last_inventory_date")
    year = last.year + BIENNIAL_INVENTORY_YEARS
    day = min(last.day, calendar.monthrange(year, last.month)[1])
    return last.replace(year=year, day=day)


# --- Input checks ----------------------------------------------------------------


def _quantity(value: object, *, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise LedgerRuleError(
            LedgerRuleCode.NOT_A_QUANTITY,
            f"{field} must be a Decimal or an int, not {type(value).__name__}",
        )
    quantity = Decimal(value)
    if not quantity.is_finite():
        raise LedgerRuleError(
            LedgerRuleCode.NOT_A_QUANTITY, f"{field} must be a finite number"
        )
    return quantity


def _concentration(value: object) -> Decimal:
    concentration = _quantity(value, field="concentration_mg_per_ml")
    if concentration <= 0:
        raise LedgerRuleError(
            LedgerRuleCode.CONCENTRATION_NOT_POSITIVE,
            f"concentration_mg_per_ml must be more than 0, not {concentration}",
        )
    return concentration


def _aware_datetime(value: object, *, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise LedgerRuleError(
            LedgerRuleCode.NOT_A_DATE,
            f"{field} must be a datetime, not {type(value).__name__}",
        )
    if value.utcoffset() is None:
        raise LedgerRuleError(
            LedgerRuleCode.NAIVE_DATETIME, f"{field} must be timezone-aware"
        )
    return value


def _date(value: object, *, field: str) -> date:
    # A datetime is a date subclass, and comparing one with a date raises TypeError.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LedgerRuleError(
            LedgerRuleCode.NOT_A_DATE,
            f"{field} must be a date, not {type(value).__name__}",
        )
    return value
