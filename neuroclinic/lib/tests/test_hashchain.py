from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from neuroclinic.lib.hashchain import canonical_json, content_hash, json_safe


def test_key_order_does_not_change_the_hash() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})


def test_the_same_instant_in_two_zones_hashes_the_same() -> None:
    utc = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    chicago = utc.astimezone(timezone(timedelta(hours=-6)))

    assert content_hash({"t": utc}) == content_hash({"t": chicago})


def test_decimals_and_uuids_become_strings() -> None:
    text = canonical_json({"dose_mg": Decimal("35.0"), "id": UUID(int=1)})

    assert text == '{"dose_mg":"35.0","id":"00000000-0000-0000-0000-000000000001"}'


@pytest.mark.parametrize(
    "content", [{"x": 1.5}, {"x": [Decimal(1), 0.1]}, {"x": {"y": 2.0}}]
)
def test_floats_are_refused(content: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_json(content)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="naive"):
        canonical_json({"t": datetime(2026, 1, 1)})  # noqa: DTZ001 - the point of the test


def test_json_safe_is_what_the_database_gives_back() -> None:
    assert json_safe({"d": Decimal("1.50"), "n": None}) == {"d": "1.50", "n": None}
