"""Properties that hold for every instrument and every valid response (hypothesis).

Pure tests: no Django, no database.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    Instrument,
    InvalidResponse,
    ResponseErrorCode,
    ScoreFlag,
    Severity,
    Sex,
    answer_raises_safety_alert,
    get_instrument,
    score,
)
from neuroclinic.measures.tests.factories import (
    SUMMED,
    error_codes,
)

# Properties over the whole registry --------------------------------------------


@st.composite
def valid_answers(draw: st.DrawFn, instrument: Instrument) -> dict[str, object]:
    """Any response the published form allows, branching and either/or pairs included."""
    answers: dict[str, object] = {}
    for item in instrument.items:
        condition = item.enable_when
        if condition is not None and answers.get(condition.link_id) != condition.answer:
            continue
        values = sorted(item.option_values)
        if item.required:
            answers[item.link_id] = draw(st.sampled_from(values))
        elif (value := draw(st.none() | st.sampled_from(values))) is not None:
            answers[item.link_id] = value
    for group in instrument.required_one_of:
        if not any(link_id in answers for link_id in group):
            first = instrument.item(group[0])
            answers[first.link_id] = draw(st.sampled_from(sorted(first.option_values)))
    return answers


@st.composite
def responses(
    draw: st.DrawFn, instruments: list[Instrument]
) -> tuple[Instrument, dict[str, object], Sex]:
    instrument = draw(st.sampled_from(instruments))
    return instrument, draw(valid_answers(instrument)), draw(st.sampled_from(list(Sex)))


ALL = list(INSTRUMENTS.values())


@given(responses(ALL))
def test_every_valid_response_scores_and_keeps_the_answers_unchanged(
    response: tuple[Instrument, dict[str, object], Sex],
) -> None:
    instrument, answers, sex = response
    before = dict(answers)

    result = score(instrument, answers, sex=sex)

    assert answers == before
    assert result.instrument_code == instrument.code
    assert result.instrument_version == instrument.version
    assert (result.triage is None) is (instrument.code != "cssrs-screener")


@given(responses(SUMMED))
def test_totals_stay_in_the_published_range_and_bands(
    response: tuple[Instrument, dict[str, object], Sex],
) -> None:
    instrument, answers, sex = response
    assert instrument.total_range is not None

    result = score(instrument, answers, sex=sex)

    assert result.total is not None
    assert instrument.total_range[0] <= result.total <= instrument.total_range[1]
    bands = [
        b.severity for b in instrument.bands if b.lowest <= result.total <= b.highest
    ]
    assert bands == ([result.severity] if instrument.bands else [])


@given(responses(SUMMED), st.data())
def test_total_never_falls_when_one_answer_scores_higher(
    response: tuple[Instrument, dict[str, object], Sex], data: st.DataObject
) -> None:
    instrument, answers, sex = response
    link_id = data.draw(st.sampled_from(sorted(answers)))
    item = instrument.item(link_id)
    old_value = answers[link_id]
    assert isinstance(old_value, int)
    new_value = data.draw(st.sampled_from(sorted(item.option_values)))

    before = score(instrument, answers, sex=sex).total
    after = score(instrument, answers | {link_id: new_value}, sex=sex).total

    assert before is not None
    assert after is not None
    if not item.in_total:
        assert after == before
    elif item.points(new_value) >= item.points(old_value):
        assert after >= before
    else:
        assert after <= before


@given(responses(ALL), st.data())
def test_dropping_a_required_answer_is_refused(
    response: tuple[Instrument, dict[str, object], Sex], data: st.DataObject
) -> None:
    instrument, answers, sex = response
    required = sorted(
        i.link_id for i in instrument.items if i.required and i.link_id in answers
    )
    link_id = data.draw(st.sampled_from(required))
    del answers[link_id]

    with pytest.raises(InvalidResponse) as error:
        score(instrument, answers, sex=sex)

    assert (link_id, ResponseErrorCode.MISSING) in error_codes(error)


@given(responses(ALL), st.data())
def test_an_answer_of_the_wrong_type_is_refused(
    response: tuple[Instrument, dict[str, object], Sex], data: st.DataObject
) -> None:
    instrument, answers, sex = response
    link_id = data.draw(st.sampled_from(sorted(answers)))
    value = answers[link_id]
    assert isinstance(value, int)
    wrong = data.draw(st.sampled_from([bool(value), str(value), float(value)]))

    with pytest.raises(InvalidResponse) as error:
        score(instrument, answers | {link_id: wrong}, sex=sex)

    assert error_codes(error) == {(link_id, ResponseErrorCode.WRONG_TYPE)}


@given(responses(ALL))
def test_safety_alert_is_raised_exactly_when_some_answer_raises_it(
    response: tuple[Instrument, dict[str, object], Sex],
) -> None:
    instrument, answers, sex = response

    result = score(instrument, answers, sex=sex)

    assert result.safety_alert is any(
        answer_raises_safety_alert(instrument, link_id, value)
        for link_id, value in answers.items()
    )


@given(valid_answers(get_instrument("phq9")))
def test_phq9_item9_flag_tracks_item9_alone(answers: dict[str, object]) -> None:
    result = score("phq9", answers)

    item9 = answers["phq9-9"]
    assert isinstance(item9, int)
    assert (ScoreFlag.PHQ9_ITEM9_POSITIVE in result.flags) is (item9 >= 1)
    assert result.severity in set(Severity)
