"""The acting user's old keyword names, accepted until the other branches call `by=`."""

import pytest

from neuroclinic.lib.old_keywords import MISSING, acting_user


def test_by_is_taken_as_given() -> None:
    assert acting_user("nurse", {}, function="f") == "nurse"
    assert acting_user(None, {}, function="f") is None


def test_an_optional_by_may_be_left_out() -> None:
    assert acting_user(MISSING, {}, function="f", optional=True) is None
    assert acting_user(
        MISSING, {"scheduled_by": "nurse"}, function="f", optional=True
    ) == ("nurse")


def test_an_old_name_stands_in_for_by() -> None:
    assert acting_user(MISSING, {"entered_by": "nurse"}, function="f") == "nurse"
    assert acting_user(MISSING, {"entered_by": None}, function="f") is None


@pytest.mark.parametrize(
    ("by", "old"),
    [
        (MISSING, {}),
        ("nurse", {"entered_by": "nurse"}),
        (MISSING, {"entered_by": "nurse", "created_by": "nurse"}),
    ],
)
def test_the_acting_user_is_given_exactly_once(
    by: object, old: dict[str, object]
) -> None:
    with pytest.raises(TypeError, match="by"):
        acting_user(by, old, function="record_response")
