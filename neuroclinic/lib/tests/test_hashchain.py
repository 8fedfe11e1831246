from datetime import UTC, date, datetime, timedelta, timezone
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


# Hashes written by canonical_json as it was before it kept one encoder and walked
# for floats without a call per plain value (migrate18j): the bytes must not change,
# or every chain written before would fail verify.
GOLDEN: list[tuple[dict[str, object], str, str]] = [
    ({}, "{}", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
    (
        {"a": 1, "b": [1, 2], "c": None, "d": True, "e": False},
        '{"a":1,"b":[1,2],"c":null,"d":true,"e":false}',
        "2543a1e2b2c6f7ccf7e236022aef19ab53862a49da2867d69582548b24bf4946",
    ),
    (
        {
            "t": datetime(
                2026, 11, 27, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=-6))
            ),
            "day": date(2026, 2, 3),
        },
        '{"day":"2026-02-03","t":"2026-11-27T18:00:00.000005+00:00"}',
        "fc65847b9a1311b3eb471c117a4d723eb259e11119bdb8abad2bb5c33b94643c",
    ),
    (
        {
            "dose_mg": Decimal("35.0"),
            "id": UUID(int=1),
            "nested": {
                "z": [Decimal("0.10"), {"y": 'é ünïcode \u2028 "quote" \\ tab\t'}],
                "a": (),
            },
        },
        '{"dose_mg":"35.0","id":"00000000-0000-0000-0000-000000000001",'
        '"nested":{"a":[],"z":["0.10",{"y":"é ünïcode \u2028 \\"quote\\" \\\\ tab\\t"}]}}',
        "2362266307844bf0a55dfe926424f55d4ae5bfd75a44f63e02c31ea60c56d380",
    ),
    (
        {
            "seq": 7,
            "prev_hash": "0" * 64,
            "data": {"items": [1, [2, [3, {"k": "v"}]]]},
            "big": 10**30,
            "neg": -5,
        },
        '{"big":1000000000000000000000000000000,"data":{"items":[1,[2,[3,{"k":"v"}]]]},'
        '"neg":-5,"prev_hash":"' + "0" * 64 + '","seq":7}',
        "554b22a62b957ee5d5a1f61182c38c7af21a8bd8a13b0969e46aafb7064895e9",
    ),
]


@pytest.mark.parametrize(("content", "text", "digest"), GOLDEN)
def test_the_canonical_bytes_and_hashes_are_those_written_before(
    content: dict[str, object], text: str, digest: str
) -> None:
    assert canonical_json(content) == text
    assert content_hash(content) == digest
    assert canonical_json(json_safe(content)) == text


def test_floats_are_refused_inside_subclassed_containers_too() -> None:
    class Items(list[object]):
        pass

    with pytest.raises(TypeError, match="float"):
        canonical_json({"x": Items([1, "a", 2.5])})
    with pytest.raises(TypeError, match="float"):
        canonical_json({"x": (1, {"y": [True, None, 0.0]})})


def test_a_value_holding_itself_is_refused() -> None:
    looped: list[object] = [1]
    looped.append(looped)
    with pytest.raises(RecursionError):
        canonical_json({"x": looped})
