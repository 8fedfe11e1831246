"""HAM-D17 scored against its published rules (source M9): 17 items, nine rated 0-4 and
eight 0-2, summed 0-52, Zimmerman's bands (0-7, 8-16, 17-23, 24 and over), the suicide
item's alert, the refusals, and that it is rated by a clinician and never sent to a
patient."""

import pytest

from neuroclinic.accounts.models import User
from neuroclinic.measures.actions.common import MeasuresError
from neuroclinic.measures.actions.due_measures import PATIENT_RATED
from neuroclinic.measures.actions.portal_links import create_portal_link
from neuroclinic.measures.instruments import (
    HAMD17_ITEM3_ALERT_MIN,
    InvalidResponse,
    Rater,
    ResponseErrorCode,
    ScoreFlag,
    get_instrument,
    score,
)
from neuroclinic.measures.models import PortalLink
from neuroclinic.measures.views import PATIENT_INSTRUMENTS
from neuroclinic.patients.models import Patient

# Items rated 0-4 in the published 17-item scale; the other eight are rated 0-2.
ZERO_TO_FOUR = (1, 2, 3, 7, 8, 9, 10, 11, 15)


def _answers(values: list[int]) -> dict[str, int]:
    assert len(values) == 17
    return {f"hamd17-{n}": v for n, v in enumerate(values, start=1)}


def test_the_published_structure() -> None:
    hamd = get_instrument("hamd17")
    assert [item.link_id for item in hamd.items] == [
        f"hamd17-{n}" for n in range(1, 18)
    ]
    for number, item in enumerate(hamd.items, start=1):
        highest = 4 if number in ZERO_TO_FOUR else 2
        assert item.option_values == frozenset(range(highest + 1)), item.link_id
    assert hamd.total_range == (0, 52)
    assert hamd.rater == Rater.CLINICIAN
    assert hamd.items[2].text == "Suicide"


# (item scores in printed order, total, band): each band's edges (Zimmerman 2013, M9)
# and worked examples.
CASES = [
    ([0] * 17, 0, "normal", False),
    ([2, 1, 0, 1, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 7, "normal", False),
    ([2, 1, 0, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8, "mild", False),
    ([3, 2, 0, 2, 1, 1, 2, 1, 1, 2, 1, 0, 0, 0, 0, 0, 0], 16, "mild", False),
    ([3, 2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 0, 0, 0, 0, 0, 0], 17, "moderate", True),
    ([3, 2, 0, 2, 2, 1, 3, 1, 1, 2, 2, 1, 1, 0, 1, 1, 0], 23, "moderate", False),
    ([3, 2, 0, 2, 2, 1, 3, 1, 1, 2, 2, 1, 1, 0, 1, 1, 1], 24, "severe", False),
    ([4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2], 52, "severe", True),
]


@pytest.mark.parametrize(("values", "total", "band", "alert"), CASES)
def test_totals_bands_and_the_suicide_item(
    values: list[int], total: int, band: str, alert: bool
) -> None:
    assert sum(values) == total
    result = score("hamd17", _answers(values))
    assert result.total == total
    assert result.severity == band
    assert result.safety_alert is alert
    assert (ScoreFlag.HAMD17_ITEM3_POSITIVE in result.flags) is alert


@pytest.mark.parametrize("item3", [0, 1, 2, 3, 4])
def test_any_answer_on_item_3_alerts(item3: int) -> None:
    values = [0] * 17
    values[2] = item3
    result = score("hamd17", _answers(values))
    assert result.safety_alert is (item3 >= HAMD17_ITEM3_ALERT_MIN)


@pytest.mark.parametrize(
    ("link_id", "value"),
    [
        ("hamd17-4", 3),  # insomnia items are 0-2
        ("hamd17-16", 3),  # "not assessed" is not a score
        ("hamd17-17", 4),
        ("hamd17-1", 5),
        ("hamd17-1", -1),
    ],
)
def test_values_beyond_an_items_range_are_refused(link_id: str, value: int) -> None:
    answers = _answers([0] * 17) | {link_id: value}
    with pytest.raises(InvalidResponse) as error:
        score("hamd17", answers)
    assert [(e.link_id, e.code) for e in error.value.errors] == [
        (link_id, ResponseErrorCode.NOT_AN_OPTION)
    ]


def test_a_missing_item_or_an_item_18_is_refused() -> None:
    missing = _answers([0] * 17)
    del missing["hamd17-9"]
    with pytest.raises(InvalidResponse) as error:
        score("hamd17", missing)
    assert [e.code for e in error.value.errors] == [ResponseErrorCode.MISSING]
    with pytest.raises(InvalidResponse) as error:
        score("hamd17", _answers([0] * 17) | {"hamd17-18": 0})
    assert [e.code for e in error.value.errors] == [ResponseErrorCode.UNKNOWN_ITEM]


@pytest.mark.django_db
def test_it_is_never_sent_to_a_patient(patient: Patient, nurse: User) -> None:
    with pytest.raises(MeasuresError) as error:
        create_portal_link(
            patient,
            instrument_codes=["phq9", "hamd17"],
            channel=PortalLink.Channel.NONE,
            by=nurse,
        )
    assert "rated by a clinician" in error.value.message
    assert not PortalLink.objects.exists()
    assert "hamd17" not in PATIENT_INSTRUMENTS
    assert "hamd17" not in PATIENT_RATED
