"""Billing rules for a cash-pay clinic: codes from what was charted, money, estimate deadlines.

Sources (ids listed in docs/sources.md):
- IV infusion time (B1): more than 15 minutes is an infusion, 96365 for the first
  hour; 15 minutes or less is an IV push, 96374. 96366 adds one unit for each
  further hour, and only for an interval of more than 30 minutes past the hour
  before it: 91-150 minutes total is one unit, 151-210 two.
- TMS (B2): 90867 for the first session (with motor threshold and mapping), 90868
  for each later session, 90869 for a later session with the motor threshold
  determined again.
- Office visits (B4, B4b): the E/M level by documented total time, new or
  established patient, is `em_rules` (its own module, with its sources).
  90791/90792 (psychiatric diagnostic evaluation without/with medical services)
  are listed by descriptor only.
- Superbill fields (B5): the rendering provider's 10-digit NPI, tax id, licence
  and state; patient name, date of birth and address; each service line's date,
  place of service (11 office, 02 telehealth), code, modifiers, units, ICD-10-CM
  pointers and the full fee; payments.
- Good-faith estimate (B6, 45 CFR 149.610): for uninsured or self-pay patients,
  in writing within 1 business day when the service is scheduled 3-9 business
  days ahead, within 3 business days when scheduled 10 or more business days
  ahead or when the patient asks.

Policies that are ours, not a source's: minutes are whole minutes, seconds
dropped (an infusion of 15 min 59 s is a push: a claim must not round up);
money is rounded half-up to the cent; a package's per-session share gives the
rounding remainder to the last session so the shares add up to the price.

Units: minutes, business days, money as Decimal in the currency's minor unit
(two places). Pure module: standard library only.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from neuroclinic.billing.em_rules import (
    DEFAULT_EM_RULES,
    EmTimeRules,
    office_visit_code,
)
from neuroclinic.billing.rule_errors import (
    BillingRuleError as BillingRuleError,  # re-exported: callers import it from here
)
from neuroclinic.lib.identifiers import npi_error

CENT = Decimal("0.01")
# Currencies the clinic may price in (ISO 4217 codes with two minor digits).
CURRENCIES = frozenset({"USD", "CAD", "EUR", "GBP", "AUD"})
MAX_AMOUNT = Decimal("1000000.00")

# B1: infusion time thresholds (minutes).
PUSH_MAX_MINUTES = 15
FIRST_HOUR_MINUTES = 60
ADDITIONAL_HOUR_MINUTES = 60
ADDITIONAL_HOUR_THRESHOLD_MINUTES = 30


class Code(StrEnum):
    """CPT/HCPCS codes this clinic bills (B1, B2, B3, B4)."""

    INFUSION_FIRST_HOUR = "96365"
    INFUSION_ADDITIONAL_HOUR = "96366"
    IV_PUSH = "96374"
    TMS_INITIAL = "90867"
    TMS_SUBSEQUENT = "90868"
    TMS_MOTOR_THRESHOLD = "90869"
    PSYCH_EVAL = "90791"
    PSYCH_EVAL_MEDICAL = "90792"
    UNCLASSIFIED_DRUG = "J3490"


class PlaceOfService(StrEnum):
    OFFICE = "11"
    TELEHEALTH = "02"


@dataclass(frozen=True)
class CodedUnits:
    code: str
    units: int


# ---------------------------------------------------------------- money


def money(value: object, *, field: str = "amount") -> Decimal:
    """A non-negative amount with at most two decimal places, as Decimal.

    Refuses negatives (a refund is its own record, never a negative payment),
    fractions of a cent, and amounts over MAX_AMOUNT.
    """
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise BillingRuleError(
            "Enter an amount such as 250.00.", field=field, code="not_money"
        ) from None
    if not amount.is_finite():
        raise BillingRuleError(
            "Enter an amount such as 250.00.", field=field, code="not_money"
        )
    if amount < 0:
        raise BillingRuleError(
            "An amount cannot be negative.", field=field, code="negative"
        )
    if amount != amount.quantize(CENT):
        raise BillingRuleError(
            "An amount has at most two decimal places.", field=field, code="too_precise"
        )
    if amount > MAX_AMOUNT:
        raise BillingRuleError(
            f"An amount is at most {MAX_AMOUNT}.", field=field, code="too_large"
        )
    return amount.quantize(CENT)


def currency(value: str, *, field: str = "currency") -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise BillingRuleError(
            f"Currency must be one of {', '.join(sorted(CURRENCIES))}.",
            field=field,
            code="currency",
        )
    return code


def same_currency(*codes: str, field: str = "currency") -> str:
    """The one currency of several amounts; amounts in two currencies never add."""
    distinct = set(codes)
    if len(distinct) != 1:
        raise BillingRuleError(
            "Amounts in different currencies cannot be added.",
            field=field,
            code="currency_mismatch",
        )
    return distinct.pop()


def line_amount(unit_price: Decimal, units: int) -> Decimal:
    if units < 1:
        raise BillingRuleError(
            "A line has at least one unit.", field="units", code="units"
        )
    return (unit_price * units).quantize(CENT, rounding=ROUND_HALF_UP)


def package_session_shares(price: Decimal, sessions: int) -> list[Decimal]:
    """Each session's share of a package price; the shares add up to the price exactly.

    Every share is the price divided by the sessions, rounded down to the cent;
    the last carries the remainder (our policy).
    """
    if sessions < 1:
        raise BillingRuleError(
            "A package has at least one session.", field="sessions", code="sessions"
        )
    share = (price / sessions).quantize(CENT, rounding="ROUND_DOWN")
    return [share] * (sessions - 1) + [price - share * (sessions - 1)]


@dataclass(frozen=True)
class Balance:
    charged: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def due(self) -> Decimal:
        return self.charged - self.paid + self.refunded

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.refunded


def check_payment(balance: Balance, amount: Decimal, *, allow_credit: bool) -> Decimal:
    """How much of a payment goes to the invoice; the rest (if allowed) is account credit.

    A payment larger than what is due is refused unless the payer says the excess
    is a credit on account.
    """
    if amount <= 0:
        raise BillingRuleError(
            "A payment is more than zero.", field="amount", code="not_positive"
        )
    if amount > balance.due and not allow_credit:
        raise BillingRuleError(
            f"The payment is more than the {balance.due} due; record the excess as a"
            " credit on account, or take less.",
            field="amount",
            code="exceeds_balance",
        )
    return min(amount, max(balance.due, Decimal(0)))


def check_refund(paid_net: Decimal, amount: Decimal) -> None:
    if amount <= 0:
        raise BillingRuleError(
            "A refund is more than zero.", field="amount", code="not_positive"
        )
    if amount > paid_net:
        raise BillingRuleError(
            f"A refund cannot be more than the {paid_net} paid and not yet refunded.",
            field="amount",
            code="exceeds_paid",
        )


# ---------------------------------------------------------------- codes


def infusion_minutes(seconds: int) -> int:
    """Whole minutes of infusion time (seconds dropped, our policy)."""
    if seconds < 0:
        raise BillingRuleError(
            "The infusion ended before it started.", field="ended_at", code="times"
        )
    return seconds // 60


def infusion_codes(minutes: int) -> list[CodedUnits]:
    """96374, or 96365 plus 96366 units, from the infusion's minutes (B1)."""
    if minutes <= 0:
        raise BillingRuleError(
            "An infusion with no recorded time cannot be billed.",
            field="minutes",
            code="no_time",
        )
    if minutes <= PUSH_MAX_MINUTES:
        return [CodedUnits(Code.IV_PUSH, 1)]
    codes = [CodedUnits(Code.INFUSION_FIRST_HOUR, 1)]
    beyond = minutes - FIRST_HOUR_MINUTES - ADDITIONAL_HOUR_THRESHOLD_MINUTES
    if beyond > 0:
        units = (beyond - 1) // ADDITIONAL_HOUR_MINUTES + 1
        codes.append(CodedUnits(Code.INFUSION_ADDITIONAL_HOUR, units))
    return codes


def tms_code(*, first_session: bool, motor_threshold_redetermined: bool) -> str:
    """90867 first, 90869 when the motor threshold is found again, else 90868 (B2)."""
    if first_session:
        return Code.TMS_INITIAL
    if motor_threshold_redetermined:
        return Code.TMS_MOTOR_THRESHOLD
    return Code.TMS_SUBSEQUENT


MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")


def modifiers(value: str) -> tuple[str, ...]:
    """Up to four two-character modifiers, e.g. '25' (B2b: same-day evaluation)."""
    parts = tuple(p for p in re.split(r"[\s,]+", value.strip().upper()) if p)
    if len(parts) > 4 or any(not MODIFIER_RE.match(p) for p in parts):
        raise BillingRuleError(
            "Up to four two-character modifiers, such as 25.",
            field="modifiers",
            code="modifiers",
        )
    return parts


DIAGNOSIS_POINTERS = "ABCDEFGHIJKL"


def diagnosis_pointers(count: int, *, per_line: int = 4) -> str:
    """Letters pointing at the first diagnoses of a superbill (at most 12, 4 a line)."""
    if count < 1:
        raise BillingRuleError(
            "A superbill needs at least one ICD-10-CM diagnosis.",
            field="diagnoses",
            code="no_diagnosis",
        )
    return ",".join(DIAGNOSIS_POINTERS[: min(count, per_line, 12)])


TAX_ID_RE = re.compile(r"^\d{2}-?\d{7}$")


def npi(value: str, *, field: str = "npi") -> str:
    """A 10-digit NPI (B5) whose check digit is right (neuroclinic.lib.identifiers)."""
    number = value.strip()
    problem = npi_error(number)
    if problem:
        raise BillingRuleError(problem, field=field, code="npi")
    return number


def tax_id(value: str, *, field: str = "tax_id") -> str:
    number = value.strip()
    if not TAX_ID_RE.match(number):
        raise BillingRuleError(
            "A tax id (EIN) is 9 digits, such as 12-3456789.",
            field=field,
            code="tax_id",
        )
    digits = number.replace("-", "")
    return f"{digits[:2]}-{digits[2:]}"


# ---------------------------------------------------------------- good-faith estimate


class EstimateTrigger(StrEnum):
    SCHEDULED = "scheduled"
    REQUESTED = "requested"


# B6: (fewest business days ahead, business days allowed to give the estimate).
GFE_DEADLINES = (
    (10, 3),
    (3, 1),
)
GFE_ON_REQUEST_BUSINESS_DAYS = 3


def is_business_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


def business_days_between(
    start: date, end: date, holidays: frozenset[date] = frozenset()
) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            count += 1
    return count


def add_business_days(
    start: date, days: int, holidays: frozenset[date] = frozenset()
) -> date:
    day = start
    added = 0
    while added < days:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            added += 1
    return day


def estimate_due(
    *,
    trigger: EstimateTrigger,
    on: date,
    service_on: date | None = None,
    holidays: frozenset[date] = frozenset(),
) -> date | None:
    """The last day to give a good-faith estimate, or None when none is owed yet (B6).

    `on` is the day the service was scheduled or the estimate requested. A service
    scheduled fewer than 3 business days ahead needs no estimate by this rule.
    """
    if trigger is EstimateTrigger.REQUESTED:
        return add_business_days(on, GFE_ON_REQUEST_BUSINESS_DAYS, holidays)
    if service_on is None:
        raise BillingRuleError(
            "A scheduled estimate needs the date of the first service.",
            field="service_on",
            code="service_date",
        )
    ahead = business_days_between(on, service_on, holidays)
    for fewest, allowed in GFE_DEADLINES:
        if ahead >= fewest:
            return add_business_days(on, allowed, holidays)
    return None


class PayerStatus(StrEnum):
    UNINSURED = "uninsured"
    SELF_PAY = "self_pay"  # insured, not billing the insurer for this care
    INSURED = (
        "insured"  # wants the clinic to bill insurance (not offered: no estimate owed)
    )


def estimate_owed(status: PayerStatus) -> bool:
    """B6: the estimate is owed to uninsured patients and to those paying themselves."""
    return status in (PayerStatus.UNINSURED, PayerStatus.SELF_PAY)


# The code each price-list service is billed under (B1, B2, B3). A consult by a
# prescriber is a psychiatric evaluation with medical services (90792); drugs
# without their own code go under the unclassified-drug code (B3 notes J3490).
SERVICE_CODES: dict[str, str] = {
    "consult": Code.PSYCH_EVAL_MEDICAL,
    "psych_eval": Code.PSYCH_EVAL,
    "em_99202": "99202",
    "em_99203": "99203",
    "em_99204": "99204",
    "em_99205": "99205",
    "em_99212": "99212",
    "em_99213": "99213",
    "em_99214": "99214",
    "em_99215": "99215",
    "infusion": Code.INFUSION_FIRST_HOUR,
    "infusion_hour": Code.INFUSION_ADDITIONAL_HOUR,
    "iv_push": Code.IV_PUSH,
    "booster": Code.INFUSION_FIRST_HOUR,
    "ketamine": Code.UNCLASSIFIED_DRUG,
    "prn_medication": Code.UNCLASSIFIED_DRUG,
    "tms_initial": Code.TMS_INITIAL,
    "tms_session": Code.TMS_SUBSEQUENT,
    "tms_motor_threshold": Code.TMS_MOTOR_THRESHOLD,
}


# Accounts-receivable aging buckets (days since the date of service; our report's choice).
AGING_BUCKETS = ((0, 30, "0-30"), (31, 60, "31-60"), (61, 90, "61-90"))
AGING_OLDEST = "over 90"


def aging_bucket(days: int) -> str:
    for low, high, label in AGING_BUCKETS:
        if low <= days <= high:
            return label
    return AGING_OLDEST if days > 0 else AGING_BUCKETS[0][2]


# ---------------------------------------------------------------- TMS sessions and visits

# The price-list service each TMS code is billed under (B2).
TMS_SERVICES: dict[str, str] = {
    Code.TMS_INITIAL: "tms_initial",
    Code.TMS_SUBSEQUENT: "tms_session",
    Code.TMS_MOTOR_THRESHOLD: "tms_motor_threshold",
}


def tms_session_code(*, number: int, new_threshold: bool, charted: str) -> str:
    """The code of a TMS session from what was charted: its place in the course and
    whether the motor threshold was determined again before it (B2).

    The session also stores the code the TMS app derived when it started; the two
    must agree, or the chart is wrong and nothing is invoiced.
    """
    if number < 1:
        raise BillingRuleError(
            "A TMS session is numbered from 1.", field="session", code="number"
        )
    code = tms_code(
        first_session=number == 1,
        motor_threshold_redetermined=new_threshold and number > 1,
    )
    if code != charted:
        raise BillingRuleError(
            f"The session was charted as {charted or 'no code'} but its facts give"
            f" {code}: correct the chart first.",
            field="session",
            code="code_mismatch",
        )
    return code


# Visit statuses (scheduling's) that say the visit did not happen, and why.
VISIT_NOT_HELD: dict[str, str] = {
    "cancelled": "That visit was cancelled: there is nothing to invoice.",
    "late_cancel": "That visit was cancelled late; it did not happen, so it is not"
    " invoiced as a visit.",
    "no_show": "The patient did not come to that visit: there is nothing to invoice.",
}
VISIT_HELD = "checked_in"
EVALUATION_TYPES = frozenset({"consult", "intake_visit"})
FOLLOW_UP_TYPES = frozenset({"follow_up"})


@dataclass(frozen=True)
class VisitCode:
    code: str
    service_key: str
    new_patient: bool = False  # an E/M code from the new-patient bands


# The two families a visit can be billed in (issue #12): a psychiatric diagnostic
# evaluation (90791/90792) or an office visit by time (E/M, 99202-99205/99212-99215).
PSYCH_EVAL_FAMILY = "psych_eval"
EM_FAMILY = "em"
VISIT_FAMILIES = (PSYCH_EVAL_FAMILY, EM_FAMILY)


def suggested_visit_family(appointment_type: str) -> str:
    """A consult or intake visit is suggested as an evaluation, a follow-up as E/M."""
    return PSYCH_EVAL_FAMILY if appointment_type in EVALUATION_TYPES else EM_FAMILY


def visit_code(
    *,
    appointment_type: str,
    status: str,
    medical: bool,
    minutes: int | None = None,
    new_patient: bool = False,
    em_rules: EmTimeRules = DEFAULT_EM_RULES,
    family: str | None = None,
) -> VisitCode:
    """The code of an office visit that happened (B4, B4b).

    A consult or intake visit is a psychiatric diagnostic evaluation: 90792 when a
    prescriber did it (with medical services), 90791 otherwise. A follow-up is an
    office visit whose level comes from the clinician's documented total time on
    the date: 99202-99205 for a new patient (`em_rules.is_new_patient`: no
    professional service in the look-back), 99212-99215 otherwise. Infusions and
    TMS sessions are invoiced from their own charts, not from the booking.

    `family` overrides the suggestion (`suggested_visit_family`) for one visit:
    an evaluation may be billed as E/M by time (a new patient's 99202-99205 instead
    of 90792), and a new patient's follow-up as an evaluation. Refused (our policy,
    docs/billing.md): an evaluation billed as E/M when its clinician does not
    prescribe (E/M codes are medical services; 90791 is the evaluation without
    them), and an evaluation for a follow-up of an established patient. (A
    follow-up keeps its E/M code whoever saw the patient, as before.)
    """
    if status in VISIT_NOT_HELD:
        raise BillingRuleError(
            VISIT_NOT_HELD[status], field="appointment", code="visit_not_held"
        )
    if status != VISIT_HELD:
        raise BillingRuleError(
            "That visit has not happened (the patient was not checked in): invoice it"
            " after.",
            field="appointment",
            code="visit_not_held",
        )
    if appointment_type not in EVALUATION_TYPES | FOLLOW_UP_TYPES:
        raise BillingRuleError(
            "Infusions and TMS sessions are invoiced from their charts; this kind of"
            " visit is not billed.",
            field="appointment",
            code="not_billable",
        )
    chosen = family or suggested_visit_family(appointment_type)
    if chosen not in VISIT_FAMILIES:
        raise BillingRuleError(
            "Choose a psychiatric evaluation (90791/90792) or an office visit by time"
            " (E/M).",
            field="family",
            code="choice",
        )
    if chosen == PSYCH_EVAL_FAMILY:
        if appointment_type in FOLLOW_UP_TYPES and not new_patient:
            raise BillingRuleError(
                "The patient is established (a professional service in the look-back):"
                " a follow-up is billed as an office visit (E/M), not as a psychiatric"
                " evaluation.",
                field="family",
                code="eval_established",
            )
        if medical:
            return VisitCode(Code.PSYCH_EVAL_MEDICAL, "consult")
        return VisitCode(Code.PSYCH_EVAL, "psych_eval")
    if not medical and appointment_type in EVALUATION_TYPES:
        raise BillingRuleError(
            "An office visit (E/M) is a medical service: this evaluation's clinician"
            " does not prescribe, so it is billed as 90791.",
            field="family",
            code="em_needs_medical",
        )
    if minutes is None:
        raise BillingRuleError(
            "Enter the clinician's documented total minutes on the date.",
            field="minutes",
            code="minutes",
        )
    code = office_visit_code(new_patient=new_patient, minutes=minutes, rules=em_rules)
    return VisitCode(code, f"em_{code}", new_patient=new_patient)
