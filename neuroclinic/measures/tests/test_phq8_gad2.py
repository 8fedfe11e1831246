"""PHQ-8 and GAD-2 scored against their published rules (sources M18, M19): totals,
the PHQ-8's PHQ-9 bands over 0-24, the GAD-2's positive screen at 3, the item codes
they share with the PHQ-9 and GAD-7, and that the PHQ-8 (no suicide item) is never
sent to patients from this clinic."""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.actions.portal_links import create_portal_link
from neuroclinic.measures.instruments import (
    GAD2_POSITIVE_CUTOFF,
    INSTRUMENTS,
    InvalidResponse,
    ScoreFlag,
    get_instrument,
    score,
)
from neuroclinic.measures.models import PortalLink
from neuroclinic.measures.views import PATIENT_INSTRUMENTS
from neuroclinic.patients.models import Patient


def _answers(code: str, values: list[int]) -> dict[str, int]:
    return {f"{code}-{n}": v for n, v in enumerate(values, start=1)}


# (answers, total, band): each band's edges (Kroenke 2009, the PHQ-9 bands on 0-24).
PHQ8_CASES = [
    ([0] * 8, 0, "minimal"),
    ([1, 1, 1, 1, 0, 0, 0, 0], 4, "minimal"),
    ([1, 1, 1, 1, 1, 0, 0, 0], 5, "mild"),
    ([2, 2, 2, 2, 1, 0, 0, 0], 9, "mild"),
    ([2, 2, 2, 2, 2, 0, 0, 0], 10, "moderate"),
    ([2, 2, 2, 2, 2, 2, 2, 0], 14, "moderate"),
    ([2, 2, 2, 2, 2, 2, 2, 1], 15, "moderately_severe"),
    ([3, 3, 3, 3, 3, 2, 1, 1], 19, "moderately_severe"),
    ([3, 3, 3, 3, 3, 3, 2, 0], 20, "severe"),
    ([3] * 8, 24, "severe"),
]


@pytest.mark.parametrize(("values", "total", "band"), PHQ8_CASES)
def test_phq8_total_and_band(values: list[int], total: int, band: str) -> None:
    result = score("phq8", _answers("phq8", values))
    assert result.total == total
    assert result.severity == band
    assert result.flags == ()
    assert not result.safety_alert  # no item 9 to raise one


# (answers, total, positive): positive at 3 or more (Kroenke 2007).
GAD2_CASES = [
    ([0, 0], 0, False),
    ([1, 1], 2, False),
    ([2, 0], 2, False),
    ([2, 1], 3, True),
    ([0, 3], 3, True),
    ([3, 3], 6, True),
]


@pytest.mark.parametrize(("values", "total", "positive"), GAD2_CASES)
def test_gad2_total_and_screen(values: list[int], total: int, positive: bool) -> None:
    result = score("gad2", _answers("gad2", values))
    assert result.total == total
    assert result.severity is None  # a screen: no bands
    assert (ScoreFlag.GAD2_POSITIVE in result.flags) is positive
    assert GAD2_POSITIVE_CUTOFF == 3


def test_they_share_the_parent_instruments_items_and_codes() -> None:
    phq9, phq8 = get_instrument("phq9"), get_instrument("phq8")
    assert [(i.text, i.loinc) for i in phq8.items] == [
        (i.text, i.loinc) for i in phq9.items[:8]
    ]
    assert "44260-8" not in {i.loinc for i in phq8.items}  # item 9 is left out
    gad7, gad2 = get_instrument("gad7"), get_instrument("gad2")
    assert [(i.text, i.loinc) for i in gad2.items] == [
        (i.text, i.loinc) for i in gad7.items[:2]
    ]
    assert [i.loinc for i in gad2.items] == ["69725-0", "68509-9"]


@pytest.mark.parametrize(
    "answers",
    [
        {},
        _answers("phq8", [0] * 7),  # item 8 missing
        _answers("phq8", [0] * 8) | {"phq8-9": 0},  # there is no item 9
        _answers("phq8", [0] * 7 + [4]),  # not an option
    ],
)
def test_phq8_bad_answers_are_refused(answers: dict[str, int]) -> None:
    with pytest.raises(InvalidResponse):
        score("phq8", answers)


def test_only_the_phq8_is_kept_for_results_from_elsewhere() -> None:
    assert not get_instrument("phq8").collected
    assert [code for code, i in INSTRUMENTS.items() if not i.collected] == ["phq8"]


def test_the_phq8_cannot_be_sent_to_a_patient(patient: Patient, nurse: User) -> None:
    with pytest.raises(MeasuresError):
        create_portal_link(
            patient,
            instrument_codes=["phq8"],
            channel=PortalLink.Channel.NONE,
            by=nurse,
        )
    assert not PortalLink.objects.exists()
    assert "phq8" not in PATIENT_INSTRUMENTS
    assert "gad2" in PATIENT_INSTRUMENTS
