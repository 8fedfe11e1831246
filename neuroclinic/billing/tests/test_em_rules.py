"""Office E/M codes by documented time and the new-patient look-back, from the
published tables (Sources B4, B4b, B4c in docs/sources.md), boundaries included."""

from datetime import date

import pytest

from neuroclinic.billing import em_rules
from neuroclinic.billing.em_rules import (
    DEFAULT_EM_RULES,
    EmTimeRules,
    TimeBand,
    is_new_patient,
    lookback_start,
    office_visit_code,
)
from neuroclinic.billing.rule_errors import BillingRuleError

# B4: 99202 15-29, 99203 30-44, 99204 45-59, 99205 60-74 (75+: prolonged, not billed).
NEW_PATIENT = [
    (15, "99202"),
    (16, "99202"),
    (29, "99202"),
    (30, "99203"),
    (44, "99203"),
    (45, "99204"),
    (59, "99204"),
    (60, "99205"),
    (74, "99205"),
    (75, "99205"),
    (120, "99205"),
]
# B4: 99212 10-19, 99213 20-29, 99214 30-39, 99215 40-54 (55+: prolonged, not billed).
ESTABLISHED = [
    (10, "99212"),
    (19, "99212"),
    (20, "99213"),
    (29, "99213"),
    (30, "99214"),
    (39, "99214"),
    (40, "99215"),
    (54, "99215"),
    (55, "99215"),
]


@pytest.mark.parametrize(("minutes", "code"), NEW_PATIENT)
def test_new_patient_codes_by_time(minutes: int, code: str) -> None:
    assert office_visit_code(new_patient=True, minutes=minutes) == code


@pytest.mark.parametrize(("minutes", "code"), ESTABLISHED)
def test_established_patient_codes_by_time(minutes: int, code: str) -> None:
    assert office_visit_code(new_patient=False, minutes=minutes) == code


@pytest.mark.parametrize(
    ("new", "minutes", "code"),
    [
        (True, 14, "visit_too_short"),
        (True, 0, "visit_too_short"),
        (False, 9, "visit_too_short"),
        (False, 0, "visit_too_short"),
        (True, -1, "minutes"),
        (False, -30, "minutes"),
    ],
)
def test_too_few_minutes_are_refused(new: bool, minutes: int, code: str) -> None:
    with pytest.raises(BillingRuleError) as error:
        office_visit_code(new_patient=new, minutes=minutes)
    assert (error.value.field, error.value.code) == ("minutes", code)


def test_the_2024_minimums_give_the_same_code_as_the_2021_ranges() -> None:
    # B4c: from 2024 each code's time is the lowest minute of its 2021 range, to be
    # met or exceeded. Every whole minute from 0 to 180 gets the same answer.
    minimums = {
        True: [(60, "99205"), (45, "99204"), (30, "99203"), (15, "99202")],
        False: [(40, "99215"), (30, "99214"), (20, "99213"), (10, "99212")],
    }
    for new, table in minimums.items():
        for minutes in range(181):
            expected = next((c for low, c in table if minutes >= low), None)
            if expected is None:
                with pytest.raises(BillingRuleError):
                    office_visit_code(new_patient=new, minutes=minutes)
            else:
                assert office_visit_code(new_patient=new, minutes=minutes) == expected


VISIT = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("earlier", "new"),
    [
        ([], True),  # never seen
        ([date(2026, 12, 6)], False),  # yesterday
        ([date(2023, 12, 7)], False),  # exactly three years before: within
        ([date(2023, 12, 6)], True),  # three years and a day: outside
        ([date(2020, 1, 1), date(2023, 12, 6)], True),
        ([date(2020, 1, 1), date(2025, 3, 1)], False),
        ([VISIT], True),  # the visit's own date is not an earlier service
        ([date(2027, 1, 5)], True),  # a later service does not count
    ],
)
def test_new_patient_look_back(earlier: list[date], new: bool) -> None:
    assert is_new_patient(visit_on=VISIT, earlier_services=earlier) is new


@pytest.mark.parametrize(
    ("visit_on", "years", "start"),
    [
        (date(2026, 12, 7), 3, date(2023, 12, 7)),
        (date(2028, 2, 29), 3, date(2025, 2, 28)),  # no 29 February in 2025
        (date(2028, 2, 29), 4, date(2024, 2, 29)),
        (date(2026, 1, 1), 1, date(2025, 1, 1)),
    ],
)
def test_lookback_start(visit_on: date, years: int, start: date) -> None:
    assert lookback_start(visit_on, years) == start


def test_the_look_back_is_configurable() -> None:
    two_years = EmTimeRules(
        new_patient=DEFAULT_EM_RULES.new_patient,
        established=DEFAULT_EM_RULES.established,
        lookback_years=2,
    )
    earlier = [date(2024, 6, 1)]
    assert is_new_patient(visit_on=VISIT, earlier_services=earlier) is False
    assert (
        is_new_patient(visit_on=VISIT, earlier_services=earlier, rules=two_years)
        is True
    )


def test_the_bands_are_configurable() -> None:
    stricter = EmTimeRules(
        new_patient=(TimeBand("99202", 20, 39), TimeBand("99203", 40, None)),
        established=DEFAULT_EM_RULES.established,
    )
    assert office_visit_code(new_patient=True, minutes=39, rules=stricter) == "99202"
    assert office_visit_code(new_patient=True, minutes=90, rules=stricter) == "99203"
    with pytest.raises(BillingRuleError):
        office_visit_code(new_patient=True, minutes=19, rules=stricter)


@pytest.mark.parametrize(
    "bands",
    [
        (),
        (TimeBand("99202", 15, 29), TimeBand("99203", 31, 44)),  # a gap
        (TimeBand("99202", 15, 30), TimeBand("99203", 30, 44)),  # an overlap
        (TimeBand("99202", 15, None), TimeBand("99203", 30, 44)),  # open, then more
        (TimeBand("99202", 29, 15),),  # ends before it starts
        (TimeBand("99202", 0, 15),),  # zero minutes
        (TimeBand("9920", 15, 29),),  # not a CPT code
    ],
)
def test_bad_bands_are_refused_when_configured(bands: tuple[TimeBand, ...]) -> None:
    with pytest.raises(ValueError, match="new_patient"):
        EmTimeRules(new_patient=bands, established=DEFAULT_EM_RULES.established)


@pytest.mark.parametrize(
    ("years", "counts"),
    [
        (0, em_rules.PROFESSIONAL_SERVICES),
        (11, em_rules.PROFESSIONAL_SERVICES),
        (3, frozenset({"infusion"})),  # visits always count
        (3, frozenset({"visit", "lab"})),
    ],
)
def test_bad_look_back_settings_are_refused(years: int, counts: frozenset[str]) -> None:
    with pytest.raises(ValueError, match=r"lookback_years|service_counts"):
        EmTimeRules(
            new_patient=DEFAULT_EM_RULES.new_patient,
            established=DEFAULT_EM_RULES.established,
            lookback_years=years,
            service_counts=counts,
        )


def test_band_labels() -> None:
    assert (
        em_rules.band_label(DEFAULT_EM_RULES, new_patient=True)
        == "new patient, 99202-99205 by time"
    )
    assert (
        em_rules.band_label(DEFAULT_EM_RULES, new_patient=False)
        == "established patient, 99212-99215 by time"
    )
