"""De-identification rules (Source: P8)."""

from datetime import date

import pytest

from neuroclinic.outcomes.deid import (
    age_group,
    icd10_codes,
    relative_day,
    research_id,
    year_or_none,
)


@pytest.mark.parametrize(
    ("birth", "on", "group"),
    [
        (date(1980, 6, 1), date(2026, 5, 31), "45"),
        (date(1980, 6, 1), date(2026, 6, 1), "46"),
        (date(1936, 6, 2), date(2026, 6, 1), "89"),
        (date(1936, 6, 1), date(2026, 6, 1), "90+"),
        (date(1920, 1, 1), date(2026, 6, 1), "90+"),
    ],
)
def test_ages_over_89_are_grouped(birth: date, on: date, group: str) -> None:
    assert age_group(birth, on) == group


def test_year_is_withheld_for_the_over_89s() -> None:
    assert year_or_none(date(2026, 6, 1), date(1980, 1, 1)) == 2026
    assert year_or_none(date(2026, 6, 1), date(1930, 1, 1)) is None


def test_research_id_is_stable_keyed_and_not_the_input() -> None:
    one = research_id("42", secret=b"a")
    assert one == research_id("42", secret=b"a")
    assert one != research_id("42", secret=b"b")
    assert one != research_id("43", secret=b"a")
    assert len(one) == 16


def test_relative_days() -> None:
    assert relative_day(date(2026, 3, 12), date(2026, 3, 2)) == 10
    assert relative_day(date(2026, 3, 1), date(2026, 3, 2)) == -1


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Treatment-resistant depression (F33.2)", "F33.2"),
        ("Jane Doe's MDD F32.9, PTSD F43.10, F32.9 again", "F32.9 F43.10"),
        ("Referred by Dr Smith at 555-0100", ""),
    ],
)
def test_only_icd10_codes_survive_free_text(text: str, codes: str) -> None:
    assert icd10_codes(text) == codes
