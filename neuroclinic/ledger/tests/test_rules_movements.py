"""Pure rules added for the ledger's actions: quantities, balances, count variances."""

from decimal import Decimal

import pytest

from neuroclinic.ledger.rules import (
    LedgerRuleCode,
    LedgerRuleError,
    check_balance_not_below_zero,
    check_movement_quantity,
    count_variance,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (D("0"), LedgerRuleCode.QUANTITY_NOT_POSITIVE),
        (D("-0.01"), LedgerRuleCode.QUANTITY_NOT_POSITIVE),
        (D("0.001"), LedgerRuleCode.QUANTITY_TOO_PRECISE),
        (D("NaN"), LedgerRuleCode.NOT_A_QUANTITY),
        (0.5, LedgerRuleCode.NOT_A_QUANTITY),
        (True, LedgerRuleCode.NOT_A_QUANTITY),
    ],
)
def test_a_movement_quantity_must_be_positive_and_to_the_hundredth(
    value: object, code: LedgerRuleCode
) -> None:
    with pytest.raises(LedgerRuleError) as caught:
        check_movement_quantity(value, field="volume_ml")  # type: ignore[arg-type]

    assert caught.value.code == code


@pytest.mark.parametrize("value", [D("0.01"), D("1"), D("10.50"), 3])
def test_good_movement_quantities_pass_unchanged(value: Decimal | int) -> None:
    assert check_movement_quantity(value) == Decimal(value)


@pytest.mark.parametrize(
    ("balance", "change", "after"),
    [
        (D("10"), D("-10"), D("0")),
        (D("1.5"), D("-0.5"), D("1.0")),
        (D("0"), D("2"), D("2")),
    ],
)
def test_a_balance_may_reach_zero(
    balance: Decimal, change: Decimal, after: Decimal
) -> None:
    assert (
        check_balance_not_below_zero(balance_ml=balance, change_ml=change, what="Vial")
        == after
    )


def test_a_balance_may_not_go_below_zero() -> None:
    with pytest.raises(
        LedgerRuleError, match=r"Vial A holds 1.00 mL; taking 1.01 mL"
    ) as caught:
        check_balance_not_below_zero(
            balance_ml=D("1.00"), change_ml=D("-1.01"), what="Vial A"
        )

    assert caught.value.code == LedgerRuleCode.BALANCE_BELOW_ZERO


@pytest.mark.parametrize(
    ("expected", "counted", "estimated", "tolerance", "variance", "flagged"),
    [
        ("10", "10", False, "0", "0", False),
        ("10", "9.99", False, "0.5", "-0.01", True),  # sealed: exact, tolerance ignored
        (
            "4.20",
            "4.00",
            True,
            "0",
            "-0.20",
            True,
        ),  # default tolerance flags any difference
        ("4.20", "4.00", True, "0.20", "-0.20", False),  # at the tolerance: not flagged
        ("4.20", "3.99", True, "0.20", "-0.21", True),
        ("4.20", "4.50", True, "0.20", "0.30", True),  # an overage is a variance too
    ],
)
def test_count_variance(
    expected: str,
    counted: str,
    estimated: bool,
    tolerance: str,
    variance: str,
    flagged: bool,
) -> None:
    result = count_variance(
        expected_ml=D(expected),
        counted_ml=D(counted),
        estimated=estimated,
        estimate_tolerance_ml=D(tolerance),
    )

    assert result.variance_ml == D(variance)
    assert result.is_discrepancy is flagged


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(LedgerRuleError) as caught:
        count_variance(expected_ml=D("1"), counted_ml=D("-1"), estimated=False)

    assert caught.value.code == LedgerRuleCode.NEGATIVE_QUANTITY
