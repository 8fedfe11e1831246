"""Office visit (E/M) codes by documented time, for a new or an established patient.

Sources (ids listed in docs/sources.md):
- B4: since 2021 an office visit's level is chosen by medical decision-making or by
  the total time on the date of the encounter. The published time bands are, for a
  new patient, 99202 15-29, 99203 30-44, 99204 45-59 and 99205 60-74 minutes; for
  an established patient 99212 10-19, 99213 20-29, 99214 30-39 and 99215 40-54
  minutes (99211 has no time). Beyond the top band a prolonged-service code is
  added. B4c: from 2024 CPT states each code's time as a single minimum to be met
  or exceeded (the same lower bounds), so every whole minute gets the same code as
  under the 2021 ranges.
- B4b: a new patient is one who has received no professional (face-to-face)
  service from the physician, or another of the exact same specialty and
  subspecialty in the same group practice, within the past three years (CPT's E/M
  guidelines; Medicare's claims manual, chapter 12 section 30.6.7, says the same
  with "previous 3 years"). Anyone else is an established patient.

Policies that are ours, not a source's (docs/billing.md):
- The clinic is one group practice of one specialty, so any professional service
  it charted counts: a visit the patient was checked in for (not a phone check-in),
  an infusion given, a TMS session delivered. Counting more makes a patient
  established sooner, which selects the lower-paid family: the rule never upcodes.
- "Within the past three years" counts a service on or after the same calendar day
  three years before the visit (29 February falls back to 28 February); a service
  on the visit's own date does not make the patient established.
- Past the top band the top code is billed; this clinic does not bill prolonged
  services.

Configurable: the bands and the look-back are an `EmTimeRules` value; the actions
take one (DEFAULT_EM_RULES unless given), checked when it is made.

Units: whole minutes, calendar dates. Pure module: standard library only.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from neuroclinic.billing.rule_errors import BillingRuleError


@dataclass(frozen=True)
class TimeBand:
    """One code's documented total minutes on the date: `low_minutes` to `high_minutes`
    inclusive (None: no upper bound)."""

    code: str
    low_minutes: int
    high_minutes: int | None


def _check_bands(name: str, bands: tuple[TimeBand, ...]) -> None:
    if not bands:
        raise ValueError(f"{name}: at least one band")
    for band in bands:
        if not (len(band.code) == 5 and band.code.isdigit()):
            raise ValueError(f"{name}: {band.code!r} is not a CPT code")
        if band.low_minutes < 1:
            raise ValueError(f"{name}: {band.code} starts at 1 minute or more")
        if band.high_minutes is not None and band.high_minutes < band.low_minutes:
            raise ValueError(f"{name}: {band.code} ends before it starts")
    for before, after in pairwise(bands):
        if before.high_minutes is None or before.high_minutes + 1 != after.low_minutes:
            raise ValueError(
                f"{name}: {after.code} must start the minute after {before.code} ends"
            )


# Kinds of charted service that can count as an earlier professional service.
PROFESSIONAL_SERVICES = frozenset({"visit", "infusion", "tms_session"})


@dataclass(frozen=True)
class EmTimeRules:
    """The bands for new and established patients and the new-patient look-back."""

    new_patient: tuple[TimeBand, ...]
    established: tuple[TimeBand, ...]
    lookback_years: int = 3
    # Which charted services make a patient established (our policy: all three).
    service_counts: frozenset[str] = field(default=PROFESSIONAL_SERVICES)

    def __post_init__(self) -> None:
        _check_bands("new_patient", self.new_patient)
        _check_bands("established", self.established)
        if not 1 <= self.lookback_years <= 10:
            raise ValueError("lookback_years: 1 to 10")
        if "visit" not in self.service_counts or not (
            self.service_counts <= PROFESSIONAL_SERVICES
        ):
            raise ValueError(
                f"service_counts: 'visit' and any of {sorted(PROFESSIONAL_SERVICES)}"
            )


# B4 (2021 ranges; B4c 2024 minimums are the same lower bounds).
DEFAULT_EM_RULES = EmTimeRules(
    new_patient=(
        TimeBand("99202", 15, 29),
        TimeBand("99203", 30, 44),
        TimeBand("99204", 45, 59),
        TimeBand("99205", 60, 74),
    ),
    established=(
        TimeBand("99212", 10, 19),
        TimeBand("99213", 20, 29),
        TimeBand("99214", 30, 39),
        TimeBand("99215", 40, 54),
    ),
)


def lookback_start(visit_on: date, years: int) -> date:
    """The first day inside the look-back: the same calendar day `years` earlier."""
    try:
        return visit_on.replace(year=visit_on.year - years)
    except ValueError:  # 29 February in a year that has none
        return visit_on.replace(year=visit_on.year - years, day=28)


def is_new_patient(
    *,
    visit_on: date,
    earlier_services: Iterable[date],
    rules: EmTimeRules = DEFAULT_EM_RULES,
) -> bool:
    """True when no professional service falls in the look-back before the visit (B4b).

    `earlier_services` are the dates of the clinic's professional services to the
    patient (any dates: those outside [visit_on - lookback, visit_on) are ignored).
    """
    start = lookback_start(visit_on, rules.lookback_years)
    return not any(start <= served < visit_on for served in earlier_services)


def office_visit_code(
    *, new_patient: bool, minutes: int, rules: EmTimeRules = DEFAULT_EM_RULES
) -> str:
    """The office visit code for the documented total minutes on the date (B4).

    Below the lowest band no code applies by time and the visit is refused; past the
    top band the top code is returned (prolonged services are not billed).
    """
    bands = rules.new_patient if new_patient else rules.established
    if minutes < 0:
        raise BillingRuleError(
            "Documented minutes cannot be negative.", field="minutes", code="minutes"
        )
    if minutes < bands[0].low_minutes:
        who = "a new" if new_patient else "an established"
        raise BillingRuleError(
            f"Less than {bands[0].low_minutes} minutes: no office visit code by time"
            f" for {who} patient.",
            field="minutes",
            code="visit_too_short",
        )
    code = bands[0].code
    for band in bands:
        if minutes >= band.low_minutes:
            code = band.code
    return code


def band_label(rules: EmTimeRules, *, new_patient: bool) -> str:
    """e.g. "new patient, 99202-99205 by time" for the account page."""
    bands = rules.new_patient if new_patient else rules.established
    who = "new patient" if new_patient else "established patient"
    return f"{who}, {bands[0].code}-{bands[-1].code} by time"
