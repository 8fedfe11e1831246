import ast
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.ledger import rules
from neuroclinic.ledger.rules import (
    DiscrepancyDueDates,
    LedgerRuleCode,
    LedgerRuleError,
    biennial_inventory_due,
    check_draw,
    check_session_reconciles,
    check_witness,
    discrepancy_due_dates,
    is_valid_dea_number,
    mg_from_ml,
    ml_from_mg,
    validate_dea_number,
)

D = Decimal
EASTERN_STANDARD = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        # (1 + 3 + 5) + 2 x (2 + 4 + 6) = 33 -> check digit 3.
        ("AB1234563", "AB1234563"),
        # (6 + 2 + 3) + 2 x (1 + 5 + 4) = 31 -> 1.
        ("BJ6125341", "BJ6125341"),
        # "9" for a business name that starts with a digit.
        ("F91234563", "F91234563"),
        ("MX0000000", "MX0000000"),
        ("XA1234563", "XA1234563"),
        # Surrounding spaces and lower case are tidied, not refused.
        ("  ab1234563 ", "AB1234563"),
    ],
)
def test_valid_dea_numbers_are_accepted_and_normalised(
    value: str, normalised: str
) -> None:
    assert validate_dea_number(value) == normalised
    assert is_valid_dea_number(value) is True


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("AB1234560", LedgerRuleCode.DEA_CHECK_DIGIT),
        ("AB1234536", LedgerRuleCode.DEA_CHECK_DIGIT),  # transposed digits
        ("QB1234563", LedgerRuleCode.DEA_REGISTRANT_TYPE),
        ("NB1234563", LedgerRuleCode.DEA_REGISTRANT_TYPE),
        ("9B1234563", LedgerRuleCode.DEA_REGISTRANT_TYPE),
        ("A11234563", LedgerRuleCode.DEA_SECOND_CHARACTER),
        ("A-1234563", LedgerRuleCode.DEA_SECOND_CHARACTER),
        ("AB123456", LedgerRuleCode.DEA_NUMBER_FORMAT),
        ("AB12345634", LedgerRuleCode.DEA_NUMBER_FORMAT),
        ("AB12345X3", LedgerRuleCode.DEA_NUMBER_FORMAT),
        ("AB 1234563", LedgerRuleCode.DEA_NUMBER_FORMAT),
        ("AB１２３４５６３", LedgerRuleCode.DEA_NUMBER_FORMAT),  # noqa: RUF001  # full-width digits
        ("", LedgerRuleCode.DEA_NUMBER_FORMAT),
        (None, LedgerRuleCode.DEA_NUMBER_FORMAT),
        (1234563, LedgerRuleCode.DEA_NUMBER_FORMAT),
    ],
)
def test_invalid_dea_numbers_are_refused_with_the_reason(
    value: object, code: LedgerRuleCode
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        validate_dea_number(value)

    assert caught.value.code == code
    assert is_valid_dea_number(value) is False


def test_check_digit_message_gives_the_expected_digit() -> None:
    with pytest.raises(LedgerRuleError, match="check digit is 0 but should be 3"):
        validate_dea_number("AB1234560")


@given(
    st.sampled_from(sorted(rules.REGISTRANT_TYPE_LETTERS)),
    st.sampled_from([*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9"]),
    st.lists(st.integers(min_value=0, max_value=9), min_size=6, max_size=6),
)
def test_exactly_one_check_digit_makes_a_number_valid(
    registrant: str, second: str, digits: list[int]
) -> None:
    stem = registrant + second + "".join(map(str, digits))

    valid = [check for check in range(10) if is_valid_dea_number(f"{stem}{check}")]

    assert len(valid) == 1


@pytest.mark.parametrize(
    ("volume_ml", "concentration", "mass_mg"),
    [
        (D("0.35"), 100, D("35.00")),
        (D("3.5"), 10, D("35.00")),
        (D("0.8"), 50, D("40.00")),
        (D(0), 50, D("0.00")),
    ],
)
def test_volume_converts_to_milligrams(
    volume_ml: Decimal, concentration: int, mass_mg: Decimal
) -> None:
    assert (
        mg_from_ml(volume_ml=volume_ml, concentration_mg_per_ml=concentration)
        == mass_mg
    )


@pytest.mark.parametrize(
    ("mass_mg", "concentration", "volume_ml"),
    [
        (D(35), 10, D("3.50")),
        (D(40), 100, D("0.40")),
        # 33.3 / 50 = 0.666 -> 0.67 mL (half up).
        (D("33.3"), 50, D("0.67")),
        (D("0.004"), 10, D("0.00")),
    ],
)
def test_milligrams_convert_to_volume(
    mass_mg: Decimal, concentration: int, volume_ml: Decimal
) -> None:
    assert (
        ml_from_mg(mass_mg=mass_mg, concentration_mg_per_ml=concentration) == volume_ml
    )


@pytest.mark.parametrize(
    ("convert", "arguments", "code"),
    [
        (
            mg_from_ml,
            {"volume_ml": D(-1), "concentration_mg_per_ml": 10},
            "negative_quantity",
        ),
        (
            ml_from_mg,
            {"mass_mg": D(-1), "concentration_mg_per_ml": 10},
            "negative_quantity",
        ),
        (
            mg_from_ml,
            {"volume_ml": D(1), "concentration_mg_per_ml": 0},
            "concentration_not_positive",
        ),
        (
            ml_from_mg,
            {"mass_mg": D(1), "concentration_mg_per_ml": D(-50)},
            "concentration_not_positive",
        ),
        (
            mg_from_ml,
            {"volume_ml": 0.5, "concentration_mg_per_ml": 10},
            "not_a_quantity",
        ),
        (
            ml_from_mg,
            {"mass_mg": D("NaN"), "concentration_mg_per_ml": 10},
            "not_a_quantity",
        ),
    ],
)
def test_bad_conversion_inputs_are_refused(
    convert: Callable[..., Decimal], arguments: dict[str, object], code: str
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        convert(**arguments)

    assert caught.value.code == code


@given(
    volume_ml=st.decimals(min_value=0, max_value=100, places=2),
    concentration=st.sampled_from([10, 50, 100]),
)
def test_volume_survives_a_round_trip_through_milligrams(
    volume_ml: Decimal, concentration: int
) -> None:
    mass_mg = mg_from_ml(volume_ml=volume_ml, concentration_mg_per_ml=concentration)

    assert (
        ml_from_mg(mass_mg=mass_mg, concentration_mg_per_ml=concentration) == volume_ml
    )


DRAW_DEFAULTS: dict[str, object] = {
    "container_balance_ml": D(10),
    "draw_ml": D("3.5"),
    "lot_expiry_date": date(2027, 3, 31),
    "on_date": date(2026, 3, 2),
}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"draw_ml": D(10)},  # the whole container
        {"draw_ml": D("0.01")},
        {"on_date": date(2027, 3, 31)},  # the expiry date is the last usable day
        {"container_balance_ml": 20, "draw_ml": 4},
    ],
)
def test_allowed_draws_pass(overrides: dict[str, object]) -> None:
    check_draw(**(DRAW_DEFAULTS | overrides))  # type: ignore[arg-type]  # table mixes types


@pytest.mark.parametrize(
    ("overrides", "code", "message_part"),
    [
        ({"draw_ml": D(0)}, LedgerRuleCode.DRAW_NOT_POSITIVE, "more than 0 mL"),
        ({"draw_ml": D("-1")}, LedgerRuleCode.DRAW_NOT_POSITIVE, "more than 0 mL"),
        (
            {"draw_ml": D("10.01")},
            LedgerRuleCode.DRAW_EXCEEDS_BALANCE,
            "cannot draw 10.01 mL: the container holds 10 mL",
        ),
        (
            {"on_date": date(2027, 4, 1)},
            LedgerRuleCode.LOT_EXPIRED,
            "expired on 2027-03-31",
        ),
        ({"container_balance_ml": D(-1)}, LedgerRuleCode.NEGATIVE_QUANTITY, "negative"),
        ({"draw_ml": 3.5}, LedgerRuleCode.NOT_A_QUANTITY, "not float"),
        ({"container_balance_ml": "10"}, LedgerRuleCode.NOT_A_QUANTITY, "not str"),
        (
            {"on_date": datetime(2026, 3, 2, 9, 0, tzinfo=UTC)},
            LedgerRuleCode.NOT_A_DATE,
            "must be a date",
        ),
        (
            {"lot_expiry_date": "2027-03-31"},
            LedgerRuleCode.NOT_A_DATE,
            "must be a date",
        ),
    ],
)
def test_refused_draws_say_why(
    overrides: dict[str, object], code: LedgerRuleCode, message_part: str
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        check_draw(**(DRAW_DEFAULTS | overrides))  # type: ignore[arg-type]  # table mixes types

    assert caught.value.code == code
    assert message_part in str(caught.value)


@pytest.mark.parametrize(
    ("drawn", "administered", "wasted"),
    [
        (D("4.00"), D("3.50"), D("0.50")),
        (D("3.5"), D("3.50"), D(0)),  # 3.5 and 3.50 are the same quantity
        (D(4), D(0), D(4)),  # infusion abandoned, all wasted
        (4, 3, 1),
    ],
)
def test_session_reconciles_when_drawn_equals_administered_plus_wasted(
    drawn: Decimal | int, administered: Decimal | int, wasted: Decimal | int
) -> None:
    check_session_reconciles(
        drawn_ml=drawn, administered_ml=administered, wasted_ml=wasted
    )


@pytest.mark.parametrize(
    ("drawn", "administered", "wasted", "code", "message_part"),
    [
        (
            D("4.00"),
            D("3.50"),
            D("0.40"),
            LedgerRuleCode.SESSION_UNRECONCILED,
            "0.10 mL unaccounted for",
        ),
        (
            D("4.00"),
            D("3.50"),
            D("0.60"),
            LedgerRuleCode.SESSION_UNRECONCILED,
            "0.10 mL more than was drawn",
        ),
        # Exact: no tolerance, however small the difference.
        (
            D("4.00"),
            D("3.999"),
            D(0),
            LedgerRuleCode.SESSION_UNRECONCILED,
            "0.001 mL unaccounted for",
        ),
        (D(4), D(5), D(-1), LedgerRuleCode.NEGATIVE_QUANTITY, "wasted_ml"),
        (4.0, D(4), D(0), LedgerRuleCode.NOT_A_QUANTITY, "drawn_ml"),
    ],
)
def test_unreconciled_sessions_are_refused(
    drawn: object,
    administered: Decimal,
    wasted: Decimal,
    code: LedgerRuleCode,
    message_part: str,
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        check_session_reconciles(
            drawn_ml=drawn,  # type: ignore[arg-type]  # refused at run time
            administered_ml=administered,
            wasted_ml=wasted,
        )

    assert caught.value.code == code
    assert message_part in str(caught.value)


NURSE_ROLES = frozenset({"nurse"})
WITNESS_ROLES = frozenset({"nurse", "prescriber", "controlled_substance_custodian"})


@pytest.mark.parametrize(
    ("actor_id", "witness_id", "witness_roles"),
    [
        (1, 2, {"nurse"}),
        ("alice", "bob", ["front_desk", "prescriber"]),
        (
            UUID("00000000-0000-4000-8000-000000000001"),
            UUID("00000000-0000-4000-8000-000000000002"),
            NURSE_ROLES,
        ),
    ],
)
def test_a_second_person_with_a_permitted_role_may_witness(
    actor_id: int | str | UUID, witness_id: int | str | UUID, witness_roles: set[str]
) -> None:
    check_witness(
        actor_id=actor_id,
        witness_id=witness_id,
        witness_roles=witness_roles,
        permitted_roles=WITNESS_ROLES,
    )


@pytest.mark.parametrize(
    ("witness_id", "witness_roles", "permitted", "code"),
    [
        (None, NURSE_ROLES, WITNESS_ROLES, LedgerRuleCode.WITNESS_MISSING),
        ("", NURSE_ROLES, WITNESS_ROLES, LedgerRuleCode.WITNESS_MISSING),
        (1, NURSE_ROLES, WITNESS_ROLES, LedgerRuleCode.WITNESS_IS_ACTOR),
        (
            2,
            frozenset({"front_desk"}),
            WITNESS_ROLES,
            LedgerRuleCode.WITNESS_ROLE_NOT_PERMITTED,
        ),
        (2, frozenset(), WITNESS_ROLES, LedgerRuleCode.WITNESS_ROLE_NOT_PERMITTED),
        (2, NURSE_ROLES, frozenset(), LedgerRuleCode.WITNESS_ROLE_NOT_PERMITTED),
    ],
)
def test_witness_refusals_have_their_own_codes(
    witness_id: int | str | None,
    witness_roles: frozenset[str],
    permitted: frozenset[str],
    code: LedgerRuleCode,
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        check_witness(
            actor_id=1,
            witness_id=witness_id,
            witness_roles=witness_roles,
            permitted_roles=permitted,
        )

    assert caught.value.code == code


@pytest.mark.parametrize(
    ("discovered_at", "holidays", "notice_due", "form_106_due"),
    [
        # Monday -> Tuesday; 2 Mar + 45 days = 16 Apr.
        (
            datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            (),
            date(2026, 3, 3),
            date(2026, 4, 16),
        ),
        (
            datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
            (),
            date(2026, 3, 6),
            date(2026, 4, 19),
        ),
        # Friday, Saturday and Sunday all -> Monday.
        (
            datetime(2026, 3, 6, 16, 0, tzinfo=UTC),
            (),
            date(2026, 3, 9),
            date(2026, 4, 20),
        ),
        (
            datetime(2026, 3, 7, 9, 0, tzinfo=UTC),
            (),
            date(2026, 3, 9),
            date(2026, 4, 21),
        ),
        (
            datetime(2026, 3, 8, 9, 0, tzinfo=UTC),
            (),
            date(2026, 3, 9),
            date(2026, 4, 22),
        ),
        # A holiday the clinic passes in is skipped too.
        (
            datetime(2026, 3, 6, 16, 0, tzinfo=UTC),
            (date(2026, 3, 9),),
            date(2026, 3, 10),
            date(2026, 4, 20),
        ),
        # Christmas Day 2026 is a Friday.
        (
            datetime(2026, 12, 24, 12, 0, tzinfo=UTC),
            {date(2026, 12, 25)},
            date(2026, 12, 28),
            date(2027, 2, 7),
        ),
    ],
)
def test_discrepancy_due_dates(
    discovered_at: datetime,
    holidays: tuple[date, ...],
    notice_due: date,
    form_106_due: date,
) -> None:
    assert discrepancy_due_dates(
        discovered_at, holidays=holidays
    ) == DiscrepancyDueDates(
        dea_notice_due_date=notice_due, form_106_due_date=form_106_due
    )


def test_discovery_date_is_taken_in_the_clinic_time_zone() -> None:
    # 03:00 UTC on Friday is still Thursday evening in New York (UTC-5).
    discovered_at = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)

    in_utc = discrepancy_due_dates(discovered_at)
    in_clinic = discrepancy_due_dates(discovered_at, clinic_timezone=EASTERN_STANDARD)

    assert in_utc.dea_notice_due_date == date(2026, 3, 9)
    assert in_clinic.dea_notice_due_date == date(2026, 3, 6)
    assert in_clinic.form_106_due_date == date(2026, 4, 19)


@pytest.mark.parametrize(
    ("discovered_at", "code"),
    [
        (datetime(2026, 3, 2, 10, 0), LedgerRuleCode.NAIVE_DATETIME),  # noqa: DTZ001  # the refused input
        (date(2026, 3, 2), LedgerRuleCode.NOT_A_DATE),
    ],
)
def test_discovery_time_must_be_an_aware_datetime(
    discovered_at: object, code: LedgerRuleCode
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        discrepancy_due_dates(discovered_at)  # type: ignore[arg-type]  # refused at run time

    assert caught.value.code == code


@given(
    discovered_at=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001  # hypothesis bounds are naive
        max_value=datetime(2040, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    holidays=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2041, 1, 31))),
)
def test_notice_is_due_on_the_first_business_day_after_discovery(
    discovered_at: datetime, holidays: set[date]
) -> None:
    due = discrepancy_due_dates(discovered_at, holidays=holidays)

    discovered = discovered_at.date()
    notice = due.dea_notice_due_date
    assert notice > discovered
    assert notice.weekday() < 5
    assert notice not in holidays
    skipped = (
        discovered + timedelta(days=n) for n in range(1, (notice - discovered).days)
    )
    assert all(day.weekday() >= 5 or day in holidays for day in skipped)
    assert due.form_106_due_date == discovered + timedelta(days=45)


@pytest.mark.parametrize(
    ("last", "due"),
    [
        (date(2025, 3, 15), date(2027, 3, 15)),
        (date(2022, 12, 31), date(2024, 12, 31)),
        (date(2023, 2, 28), date(2025, 2, 28)),
        # 29 Feb 2026 does not exist; the earlier day keeps the inventory on time.
        (date(2024, 2, 29), date(2026, 2, 28)),
        (date(2020, 2, 29), date(2022, 2, 28)),
        # 28 February stays the 28th even when the due year is a leap year.
        (date(2026, 2, 28), date(2028, 2, 28)),
    ],
)
def test_biennial_inventory_is_due_two_years_later(last: date, due: date) -> None:
    assert biennial_inventory_due(last) == due


def test_biennial_inventory_refuses_a_datetime() -> None:
    with pytest.raises(LedgerRuleError) as caught:
        biennial_inventory_due(datetime(2025, 3, 15, tzinfo=UTC))

    assert caught.value.code == LedgerRuleCode.NOT_A_DATE


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_biennial_inventory_is_never_more_than_two_years_away(last: date) -> None:
    due = biennial_inventory_due(last)

    assert due.year == last.year + 2
    assert due.month == last.month
    assert 729 <= (due - last).days <= 731


def test_rules_module_imports_only_the_standard_library() -> None:
    assert rules.__file__ is not None
    tree = ast.parse(Path(rules.__file__).read_text(encoding="utf-8"))

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
