"""The billing rules against their published values (B1, B2, B4, B6) and our money policy."""

from datetime import date
from decimal import Decimal

import pytest

from neuroclinic.billing import rules
from neuroclinic.billing.rules import (
    Balance,
    BillingRuleError,
    CodedUnits,
    EstimateTrigger,
    PayerStatus,
)

D = Decimal


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        # B1: 15 minutes or less is a push; more is 96365 for the first hour.
        (1, [CodedUnits("96374", 1)]),
        (15, [CodedUnits("96374", 1)]),
        (16, [CodedUnits("96365", 1)]),
        (40, [CodedUnits("96365", 1)]),
        (60, [CodedUnits("96365", 1)]),
        # 96366 only past 30 minutes beyond the hour: 91-150 minutes is one unit.
        (90, [CodedUnits("96365", 1)]),
        (91, [CodedUnits("96365", 1), CodedUnits("96366", 1)]),
        (150, [CodedUnits("96365", 1), CodedUnits("96366", 1)]),
        (151, [CodedUnits("96365", 1), CodedUnits("96366", 2)]),
        (210, [CodedUnits("96365", 1), CodedUnits("96366", 2)]),
        (211, [CodedUnits("96365", 1), CodedUnits("96366", 3)]),
    ],
)
def test_infusion_codes_follow_the_time_rule(
    minutes: int, expected: list[CodedUnits]
) -> None:
    assert rules.infusion_codes(minutes) == expected


@pytest.mark.parametrize(
    ("seconds", "minutes"), [(0, 0), (59, 0), (15 * 60 + 59, 15), (16 * 60, 16)]
)
def test_infusion_minutes_drop_seconds(seconds: int, minutes: int) -> None:
    assert rules.infusion_minutes(seconds) == minutes


def test_a_push_of_15_minutes_and_59_seconds_is_not_rounded_up_to_an_infusion() -> None:
    assert rules.infusion_codes(rules.infusion_minutes(15 * 60 + 59)) == [
        CodedUnits("96374", 1)
    ]


@pytest.mark.parametrize("minutes", [0, -5])
def test_an_infusion_without_time_is_refused(minutes: int) -> None:
    with pytest.raises(BillingRuleError) as error:
        rules.infusion_codes(minutes)
    assert error.value.code == "no_time"


def test_negative_infusion_time_is_refused() -> None:
    with pytest.raises(BillingRuleError):
        rules.infusion_minutes(-1)


@pytest.mark.parametrize(
    ("first", "redetermined", "code"),
    [
        (True, False, "90867"),
        (True, True, "90867"),
        (False, True, "90869"),
        (False, False, "90868"),
    ],
)
def test_tms_codes(first: bool, redetermined: bool, code: str) -> None:
    assert (
        rules.tms_code(first_session=first, motor_threshold_redetermined=redetermined)
        == code
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("250", D("250.00")),
        ("0", D("0.00")),
        (" 99.5 ", D("99.50")),
        ("0.01", D("0.01")),
    ],
)
def test_money_accepts_amounts(value: str, expected: Decimal) -> None:
    assert rules.money(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("-1", "negative"),
        ("-0.01", "negative"),
        ("1.001", "too_precise"),
        ("abc", "not_money"),
        ("", "not_money"),
        ("NaN", "not_money"),
        ("Infinity", "not_money"),
        ("1000000.01", "too_large"),
    ],
)
def test_money_refuses(value: str, code: str) -> None:
    with pytest.raises(BillingRuleError) as error:
        rules.money(value, field="price")
    assert (error.value.code, error.value.field) == (code, "price")


@pytest.mark.parametrize(
    ("price", "sessions", "shares"),
    [
        (D("2400.00"), 6, [D("400.00")] * 6),
        (D("2500.00"), 6, [D("416.66")] * 5 + [D("416.70")]),
        (D("100.00"), 3, [D("33.33"), D("33.33"), D("33.34")]),
        (D("0.00"), 2, [D("0.00"), D("0.00")]),
        (D("5.00"), 1, [D("5.00")]),
    ],
)
def test_package_shares_add_up_to_the_price(
    price: Decimal, sessions: int, shares: list[Decimal]
) -> None:
    result = rules.package_session_shares(price, sessions)
    assert result == shares
    assert sum(result) == price


def test_line_amount() -> None:
    assert rules.line_amount(D("475.00"), 2) == D("950.00")
    with pytest.raises(BillingRuleError):
        rules.line_amount(D("1.00"), 0)


def test_currencies_never_mix() -> None:
    assert rules.same_currency("USD", "USD") == "USD"
    with pytest.raises(BillingRuleError):
        rules.same_currency("USD", "EUR")
    with pytest.raises(BillingRuleError):
        rules.currency("XYZ")
    assert rules.currency(" usd ") == "USD"


@pytest.mark.parametrize(
    ("charged", "paid", "refunded", "amount", "credit", "applied"),
    [
        (D("500"), D("0"), D("0"), D("500"), False, D("500")),
        (D("500"), D("200"), D("0"), D("300"), False, D("300")),
        (D("500"), D("200"), D("50"), D("350"), False, D("350")),
        (D("500"), D("0"), D("0"), D("600"), True, D("500")),
        (D("500"), D("500"), D("0"), D("20"), True, D("0")),
    ],
)
def test_payments_apply_up_to_the_balance(
    charged: Decimal,
    paid: Decimal,
    refunded: Decimal,
    amount: Decimal,
    credit: bool,
    applied: Decimal,
) -> None:
    balance = Balance(charged=charged, paid=paid, refunded=refunded)
    assert rules.check_payment(balance, amount, allow_credit=credit) == applied


@pytest.mark.parametrize(
    ("amount", "code"), [(D("500.01"), "exceeds_balance"), (D("0"), "not_positive")]
)
def test_payments_refused(amount: Decimal, code: str) -> None:
    balance = Balance(charged=D("500"), paid=D("0"), refunded=D("0"))
    with pytest.raises(BillingRuleError) as error:
        rules.check_payment(balance, amount, allow_credit=False)
    assert error.value.code == code


@pytest.mark.parametrize(
    ("paid_net", "amount", "ok"),
    [
        (D("100"), D("100"), True),
        (D("100"), D("100.01"), False),
        (D("0"), D("1"), False),
    ],
)
def test_refunds_never_exceed_what_was_paid(
    paid_net: Decimal, amount: Decimal, ok: bool
) -> None:
    if ok:
        rules.check_refund(paid_net, amount)
    else:
        with pytest.raises(BillingRuleError) as error:
            rules.check_refund(paid_net, amount)
        assert error.value.code == "exceeds_paid"


@pytest.mark.parametrize(
    ("scheduled_on", "service_on", "due"),
    [
        # Mon 2026-12-07. B6: 3-9 business days ahead -> within 1 business day.
        (date(2026, 12, 7), date(2026, 12, 10), date(2026, 12, 8)),
        (date(2026, 12, 7), date(2026, 12, 18), date(2026, 12, 8)),
        # 10 or more business days ahead -> within 3 business days.
        (date(2026, 12, 7), date(2026, 12, 21), date(2026, 12, 10)),
        # Friday booking: business days skip the weekend.
        (date(2026, 12, 11), date(2026, 12, 16), date(2026, 12, 14)),
        (date(2026, 12, 11), date(2026, 12, 28), date(2026, 12, 16)),
        # Fewer than 3 business days ahead: no estimate owed by this rule.
        (date(2026, 12, 7), date(2026, 12, 9), None),
        (date(2026, 12, 11), date(2026, 12, 15), None),
    ],
)
def test_estimate_deadlines(
    scheduled_on: date, service_on: date, due: date | None
) -> None:
    assert (
        rules.estimate_due(
            trigger=EstimateTrigger.SCHEDULED, on=scheduled_on, service_on=service_on
        )
        == due
    )


def test_estimate_on_request_is_due_in_three_business_days() -> None:
    assert rules.estimate_due(
        trigger=EstimateTrigger.REQUESTED, on=date(2026, 12, 10)
    ) == date(2026, 12, 15)


def test_holidays_are_not_business_days() -> None:
    holidays = frozenset({date(2026, 12, 25)})
    assert rules.add_business_days(date(2026, 12, 24), 1, holidays) == date(
        2026, 12, 28
    )


@pytest.mark.parametrize(
    ("status", "owed"),
    [
        (PayerStatus.UNINSURED, True),
        (PayerStatus.SELF_PAY, True),
        (PayerStatus.INSURED, False),
    ],
)
def test_estimate_owed_to_uninsured_and_self_pay(
    status: PayerStatus, owed: bool
) -> None:
    assert rules.estimate_owed(status) is owed


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1234567893", True),
        ("123456789", False),
        ("12345678901", False),
        ("12345x7893", False),
        ("1234567890", False),
    ],
)
def test_npi_is_ten_digits(value: str, ok: bool) -> None:
    if ok:
        assert rules.npi(value) == value
    else:
        with pytest.raises(BillingRuleError):
            rules.npi(value)


def test_tax_id_is_normalized() -> None:
    assert rules.tax_id("123456789") == "12-3456789"
    with pytest.raises(BillingRuleError):
        rules.tax_id("12-345")


@pytest.mark.parametrize(
    ("count", "pointers"), [(1, "A"), (2, "A,B"), (4, "A,B,C,D"), (7, "A,B,C,D")]
)
def test_diagnosis_pointers(count: int, pointers: str) -> None:
    assert rules.diagnosis_pointers(count) == pointers


def test_a_superbill_without_a_diagnosis_is_refused() -> None:
    with pytest.raises(BillingRuleError) as error:
        rules.diagnosis_pointers(0)
    assert error.value.code == "no_diagnosis"


def test_modifiers() -> None:
    assert rules.modifiers("25") == ("25",)
    assert rules.modifiers("") == ()
    with pytest.raises(BillingRuleError):
        rules.modifiers("25,59,XE,XS,GT")
    with pytest.raises(BillingRuleError):
        rules.modifiers("2")


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-1, "0-30"),
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "over 90"),
    ],
)
def test_aging_buckets(days: int, bucket: str) -> None:
    assert rules.aging_bucket(days) == bucket


# ---------------------------------------------------------------- TMS and visit codes


@pytest.mark.parametrize(
    ("number", "new_threshold", "charted", "expected"),
    [
        (1, False, "90867", "90867"),  # first session, with mapping and threshold
        (1, True, "90867", "90867"),  # the first session's threshold is part of 90867
        (2, False, "90868", "90868"),
        (17, False, "90868", "90868"),
        (17, True, "90869", "90869"),  # threshold determined again before it
    ],
)
def test_tms_session_codes(
    number: int, new_threshold: bool, charted: str, expected: str
) -> None:
    assert (
        rules.tms_session_code(
            number=number, new_threshold=new_threshold, charted=charted
        )
        == expected
    )


@pytest.mark.parametrize(
    ("number", "new_threshold", "charted", "code"),
    [
        (2, True, "90868", "code_mismatch"),
        (1, False, "90868", "code_mismatch"),
        (3, False, "", "code_mismatch"),
        (0, False, "90867", "number"),
    ],
)
def test_tms_session_codes_refused(
    number: int, new_threshold: bool, charted: str, code: str
) -> None:
    with pytest.raises(rules.BillingRuleError) as error:
        rules.tms_session_code(
            number=number, new_threshold=new_threshold, charted=charted
        )
    assert error.value.code == code


@pytest.mark.parametrize(
    ("kind", "medical", "minutes", "code", "service"),
    [
        ("consult", True, None, "90792", "consult"),
        ("consult", False, None, "90791", "psych_eval"),
        ("intake_visit", True, None, "90792", "consult"),
        ("follow_up", True, 10, "99212", "em_99212"),
        ("follow_up", True, 25, "99213", "em_99213"),
        ("follow_up", True, 30, "99214", "em_99214"),
        ("follow_up", False, 54, "99215", "em_99215"),
        ("follow_up", True, 80, "99215", "em_99215"),  # prolonged time not billed
    ],
)
def test_visit_codes(
    kind: str, medical: bool, minutes: int | None, code: str, service: str
) -> None:
    found = rules.visit_code(
        appointment_type=kind, status="checked_in", medical=medical, minutes=minutes
    )
    assert (found.code, found.service_key) == (code, service)
    assert found.new_patient is False
    assert rules.SERVICE_CODES[found.service_key] == code


@pytest.mark.parametrize(
    ("kind", "minutes", "code"),
    [
        ("follow_up", 15, "99202"),
        ("follow_up", 44, "99203"),
        ("follow_up", 45, "99204"),
        ("follow_up", 75, "99205"),
        ("consult", None, "90792"),  # an evaluation stays 90792, new or not
    ],
)
def test_visit_codes_for_a_new_patient(
    kind: str, minutes: int | None, code: str
) -> None:
    found = rules.visit_code(
        appointment_type=kind,
        status="checked_in",
        medical=True,
        minutes=minutes,
        new_patient=True,
    )
    assert found.code == code
    assert rules.SERVICE_CODES[found.service_key] == code


@pytest.mark.parametrize(
    ("kind", "status", "minutes", "code"),
    [
        ("consult", "cancelled", None, "visit_not_held"),
        ("consult", "late_cancel", None, "visit_not_held"),
        ("consult", "no_show", None, "visit_not_held"),
        ("consult", "booked", None, "visit_not_held"),
        ("consult", "confirmed", None, "visit_not_held"),
        ("follow_up", "moved", 30, "visit_not_held"),
        ("follow_up", "checked_in", None, "minutes"),
        ("follow_up", "checked_in", 9, "visit_too_short"),
        ("follow_up", "checked_in", -5, "minutes"),
        ("infusion", "checked_in", None, "not_billable"),
        ("tms_session", "checked_in", None, "not_billable"),
        ("phone_check_in", "checked_in", None, "not_billable"),
    ],
)
def test_visits_refused(kind: str, status: str, minutes: int | None, code: str) -> None:
    with pytest.raises(rules.BillingRuleError) as error:
        rules.visit_code(
            appointment_type=kind, status=status, medical=True, minutes=minutes
        )
    assert error.value.code == code
