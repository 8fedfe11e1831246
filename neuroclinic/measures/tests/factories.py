import pytest

from neuroclinic.measures.instruments import (
    INSTRUMENTS,
    InstrumentCode,
    InvalidResponse,
    Item,
    get_instrument,
)


def phq9(total: int = 10, *, item9: int = 0) -> dict[str, object]:
    """PHQ-9 answers adding up to `total`, with item 9 as given."""
    answers: dict[str, object] = {f"phq9-{n}": 0 for n in range(1, 10)}
    answers["phq9-9"] = item9
    remaining = total - item9
    for n in range(1, 9):
        step = min(3, remaining)
        answers[f"phq9-{n}"] = step
        remaining -= step
    assert remaining == 0, "total too high for item 9 as given"
    return answers


def lowest(code: str) -> dict[str, object]:
    """Every required item answered with its lowest option."""
    instrument = get_instrument(code)
    return {
        i.link_id: min(o.value for o in i.options)
        for i in instrument.items
        if i.required
    }


SUMMED = [instrument for instrument in INSTRUMENTS.values() if instrument.total_range]


def lowest_points_value(item: Item) -> int:
    return min(item.option_values, key=item.points)


def answers_with_total(code: str, total: int) -> dict[str, object]:
    """A valid response to a summed instrument whose published total is `total`.

    Required items start at their lowest-scoring option; points are then added
    greedily, with any suicide item filled last so low totals leave it at 0.
    """
    instrument = get_instrument(code)
    answers: dict[str, object] = {
        item.link_id: lowest_points_value(item)
        for item in instrument.items
        if item.required
    }
    if code == InstrumentCode.QIDS_SR16:
        answers |= {"qids-sr16-6": 0, "qids-sr16-8": 0}
        # One item per domain, so each point raises its domain's maximum.
        numbers = (1, 5, 6, 10, 11, 13, 14, 15, 12)
        candidates = [f"qids-sr16-{number}" for number in numbers]
    else:
        suicide_items = {"phq9-9", "madrs-10", "hamd17-3"}
        in_total = [item.link_id for item in instrument.items if item.in_total]
        candidates = sorted(in_total, key=lambda link_id: link_id in suicide_items)

    remaining = total
    for link_id in candidates:
        item = instrument.item(link_id)
        value = max(
            (value for value in item.option_values if item.points(value) <= remaining),
            key=item.points,
        )
        answers[link_id] = value
        remaining -= item.points(value)
    assert remaining == 0, f"{code} cannot reach {total}"
    return answers


def cssrs(
    *,
    wish: int = 0,
    thoughts: int = 0,
    method: int | None = None,
    intent: int | None = None,
    plan: int | None = None,
    behaviour: int = 0,
    recent: int | None = None,
) -> dict[str, object]:
    """A C-SSRS screener response; None leaves the item out."""
    answers: dict[str, object | None] = {
        "cssrs-screener-1": wish,
        "cssrs-screener-2": thoughts,
        "cssrs-screener-3": method,
        "cssrs-screener-4": intent,
        "cssrs-screener-5": plan,
        "cssrs-screener-6": behaviour,
        "cssrs-screener-6a": recent,
    }
    return {link_id: value for link_id, value in answers.items() if value is not None}


def error_codes(
    error: pytest.ExceptionInfo[InvalidResponse],
) -> set[tuple[str | None, str]]:
    return {(e.link_id, e.code) for e in error.value.errors}
