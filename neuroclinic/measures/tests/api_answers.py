"""Answer sets and expected results for the measures API tests (test_api.py).

Answers are built from each instrument's definition (the catalogue), so a
test table covers every instrument; the expected results and the published
item order are written out by hand, from the published forms and scoring
rules (docs/clinical/instruments.md; sources M1-M15), so that a change in
the catalogue or the scorer shows up as a failure rather than moving the
expectation along with it.
"""

from dataclasses import dataclass, field
from typing import Any

from neuroclinic.measures.instruments import INSTRUMENTS, Instrument

# Every instrument the issue names, in the order INSTRUMENTS lists them.
CODES: tuple[str, ...] = (
    "phq9",
    "phq2",
    "gad7",
    "qids-sr16",
    "madrs",
    "cssrs-screener",
    "pcl5",
    "mdq",
    "audit-c",
    "dast10",
    "cadss6",
    "phq8",
    "gad2",
    "hamd17",
)

# The sex sent with every scoring request for instruments whose cut-offs depend on it.
SEX_FOR_SCORING: dict[str, str] = {"audit-c": "female"}


def _numbered(prefix: str, last: int) -> list[str]:
    return [f"{prefix}-{n}" for n in range(1, last + 1)]


# linkIds in the order the published forms print them.
PUBLISHED_LINK_IDS: dict[str, list[str]] = {
    "phq9": _numbered("phq9", 10),
    "phq2": _numbered("phq2", 2),
    "gad7": _numbered("gad7", 7),
    "qids-sr16": _numbered("qids-sr16", 16),
    "madrs": _numbered("madrs", 10),
    "cssrs-screener": [*_numbered("cssrs-screener", 6), "cssrs-screener-6a"],
    "pcl5": _numbered("pcl5", 20),
    "mdq": [
        *(f"mdq-1{letter}" for letter in "abcdefghijklm"),
        *_numbered("mdq", 5)[1:],
    ],
    "audit-c": _numbered("audit-c", 3),
    "dast10": _numbered("dast10", 10),
    "cadss6": _numbered("cadss6", 6),
    "phq8": _numbered("phq8", 8),
    "gad2": _numbered("gad2", 2),
    "hamd17": _numbered("hamd17", 17),
}

# A few item LOINC codes checked against the published panels (sources M2, M3, M6).
KNOWN_ITEM_LOINC: tuple[tuple[str, str, str], ...] = (
    ("phq9", "phq9-1", "44250-9"),
    ("phq9", "phq9-9", "44260-8"),
    ("phq9", "phq9-10", "69722-7"),
    ("phq2", "phq2-2", "44255-8"),
    ("gad7", "gad7-1", "69725-0"),
    ("gad7", "gad7-7", "69736-7"),
    ("phq8", "phq8-8", "44253-3"),
    ("gad2", "gad2-2", "68509-9"),
    ("cssrs-screener", "cssrs-screener-6a", "93269-9"),
    ("audit-c", "audit-c-1", "68518-0"),
    ("audit-c", "audit-c-3", "68520-6"),
)


def lowest_answers(code: str) -> dict[str, Any]:
    """A complete, valid response: the lowest option for every item that is asked and required.

    Branching is honoured (an item with an `enable_when` is answered only when
    its controlling answer enables it, which the lowest answers never do), and
    for each "answer one of" group (QIDS-SR16 items 6/7 and 8/9) the first
    item is answered.
    """
    instrument: Instrument = INSTRUMENTS[code]
    answers: dict[str, Any] = {}
    for item in instrument.items:
        enabled = (
            item.enable_when is None
            or answers.get(item.enable_when.link_id) == item.enable_when.answer
        )
        if item.required and enabled:
            answers[item.link_id] = min(item.option_values)
    for group in instrument.required_one_of:
        first = instrument.item(group[0])
        answers[first.link_id] = min(first.option_values)
    return {
        link_id: answers[link_id] for link_id in _in_item_order(instrument, answers)
    }


def _in_item_order(instrument: Instrument, answers: dict[str, Any]) -> list[str]:
    return [item.link_id for item in instrument.items if item.link_id in answers]


def score_payload(code: str, answers: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"answers": answers}
    if code in SEX_FOR_SCORING:
        payload["sex"] = SEX_FOR_SCORING[code]
    return payload


@dataclass(frozen=True)
class Expected:
    total: int | None
    severity: str | None
    flags: list[str] = field(default_factory=list)
    subscales: dict[str, int] = field(default_factory=dict)
    triage: str | None = None
    safety_alert: bool = False


QIDS_ZERO_DOMAINS = {
    "sleep": 0,
    "sad_mood": 0,
    "appetite_weight": 0,
    "concentration": 0,
    "self_view": 0,
    "suicidal_ideation": 0,
    "interest": 0,
    "energy": 0,
    "psychomotor": 0,
}
PCL5_ZERO_CLUSTERS = {"cluster_b": 0, "cluster_c": 0, "cluster_d": 0, "cluster_e": 0}

# What `lowest_answers(code)` scores, by the published rules.
LOWEST_EXPECTED: dict[str, Expected] = {
    "phq9": Expected(0, "minimal"),
    "phq2": Expected(0, None),
    "gad7": Expected(0, "minimal"),
    "qids-sr16": Expected(0, "none", subscales=QIDS_ZERO_DOMAINS),
    "madrs": Expected(0, "normal"),
    # Not summed: triaged. "No" to items 1, 2 and 6 is triage level none.
    "cssrs-screener": Expected(None, None, triage="none"),
    "pcl5": Expected(0, None, subscales=PCL5_ZERO_CLUSTERS),
    "mdq": Expected(0, None),
    "audit-c": Expected(0, None),
    # Item 3 ("able to stop") is reverse-scored: its lowest answer, "No", counts 1.
    "dast10": Expected(1, "low"),
    "cadss6": Expected(0, None),
    "phq8": Expected(0, "minimal"),
    "gad2": Expected(0, None),
    "hamd17": Expected(0, "normal"),
}


def with_answers(code: str, **changes: int) -> dict[str, Any]:
    """`lowest_answers(code)` with some items changed; keyword names use _ for -."""
    answers = lowest_answers(code)
    for name, value in changes.items():
        answers[name.replace("_", "-")] = value
    return answers


def all_items(code: str, value: int, *, numbers: range) -> dict[str, Any]:
    """Every `code-N` item for N in `numbers` answered `value`."""
    return {f"{code}-{n}": value for n in numbers}


# Published results for known inputs: (id, code, answers, sex, expected).
KNOWN_SCORES: list[tuple[str, str, dict[str, Any], str | None, Expected]] = [
    (
        "phq9 all 3s",
        "phq9",
        all_items("phq9", 3, numbers=range(1, 10)),
        None,
        Expected(27, "severe", ["phq9_item9_positive"], safety_alert=True),
    ),
    (
        "phq9 4 is minimal",
        "phq9",
        lowest_answers("phq9") | all_items("phq9", 1, numbers=range(1, 5)),
        None,
        Expected(4, "minimal"),
    ),
    (
        "phq9 5 is mild",
        "phq9",
        lowest_answers("phq9") | all_items("phq9", 1, numbers=range(1, 6)),
        None,
        Expected(5, "mild"),
    ),
    (
        "phq9 item 9 of 1 alerts at a minimal total",
        "phq9",
        with_answers("phq9", phq9_9=1),
        None,
        Expected(1, "minimal", ["phq9_item9_positive"], safety_alert=True),
    ),
    (
        "phq9 item 10 is not in the total",
        "phq9",
        with_answers("phq9", phq9_10=3),
        None,
        Expected(0, "minimal"),
    ),
    (
        "phq2 3 is positive",
        "phq2",
        {"phq2-1": 1, "phq2-2": 2},
        None,
        Expected(3, None, ["phq2_positive"]),
    ),
    (
        "gad7 all 1s",
        "gad7",
        all_items("gad7", 1, numbers=range(1, 8)),
        None,
        Expected(7, "mild"),
    ),
    (
        "gad7 all 3s",
        "gad7",
        all_items("gad7", 3, numbers=range(1, 8)),
        None,
        Expected(21, "severe"),
    ),
    (
        "qids domains take the highest item; item 12 alerts",
        "qids-sr16",
        with_answers(
            "qids-sr16",
            qids_sr16_1=1,
            qids_sr16_3=2,
            qids_sr16_6=2,
            qids_sr16_7=3,
            qids_sr16_12=1,
        ),
        None,
        Expected(
            6,
            "mild",
            ["qids_item12_positive"],
            subscales=QIDS_ZERO_DOMAINS
            | {"sleep": 2, "appetite_weight": 3, "suicidal_ideation": 1},
            safety_alert=True,
        ),
    ),
    (
        "madrs all 6s",
        "madrs",
        all_items("madrs", 6, numbers=range(1, 11)),
        None,
        Expected(60, "severe", ["madrs_item10_positive"], safety_alert=True),
    ),
    (
        "cssrs yes to 1 only is low",
        "cssrs-screener",
        with_answers("cssrs-screener", cssrs_screener_1=1),
        None,
        Expected(None, None, ["cssrs_positive"], triage="low", safety_alert=True),
    ),
    (
        "cssrs yes to 2 then 4 is high",
        "cssrs-screener",
        {
            "cssrs-screener-1": 1,
            "cssrs-screener-2": 1,
            "cssrs-screener-3": 0,
            "cssrs-screener-4": 1,
            "cssrs-screener-5": 0,
            "cssrs-screener-6": 0,
        },
        None,
        Expected(None, None, ["cssrs_positive"], triage="high", safety_alert=True),
    ),
    (
        "cssrs lifetime behaviour, not in 3 months, is moderate",
        "cssrs-screener",
        with_answers("cssrs-screener", cssrs_screener_6=1) | {"cssrs-screener-6a": 0},
        None,
        Expected(None, None, ["cssrs_positive"], triage="moderate", safety_alert=True),
    ),
    (
        "pcl5 clusters B C D E",
        "pcl5",
        all_items("pcl5", 1, numbers=range(1, 6))
        | all_items("pcl5", 2, numbers=range(6, 8))
        | all_items("pcl5", 3, numbers=range(8, 15))
        | all_items("pcl5", 4, numbers=range(15, 21)),
        None,
        Expected(
            54,
            None,
            ["pcl5_provisional_ptsd"],
            subscales={
                "cluster_b": 5,
                "cluster_c": 4,
                "cluster_d": 21,
                "cluster_e": 24,
            },
        ),
    ),
    (
        "pcl5 DSM-5 pattern below the cut-off",
        "pcl5",
        with_answers(
            "pcl5", pcl5_1=2, pcl5_6=2, pcl5_8=2, pcl5_9=2, pcl5_15=2, pcl5_16=2
        ),
        None,
        Expected(
            12,
            None,
            ["pcl5_dsm5_symptom_pattern"],
            subscales={"cluster_b": 2, "cluster_c": 2, "cluster_d": 4, "cluster_e": 4},
        ),
    ),
    (
        "mdq 7 symptoms, same period, moderate problem",
        "mdq",
        lowest_answers("mdq")
        | {f"mdq-1{letter}": 1 for letter in "abcdefg"}
        | {"mdq-2": 1, "mdq-3": 2},
        None,
        Expected(7, None, ["mdq_positive"]),
    ),
    (
        "audit-c 3 for a woman is positive",
        "audit-c",
        {"audit-c-1": 1, "audit-c-2": 1, "audit-c-3": 1},
        "female",
        Expected(3, None, ["audit_c_positive"]),
    ),
    (
        "audit-c 3 for a man is not",
        "audit-c",
        {"audit-c-1": 1, "audit-c-2": 1, "audit-c-3": 1},
        "male",
        Expected(3, None),
    ),
    (
        "audit-c 4 for a man is positive",
        "audit-c",
        {"audit-c-1": 2, "audit-c-2": 1, "audit-c-3": 1},
        "male",
        Expected(4, None, ["audit_c_positive"]),
    ),
    (
        "dast10 all yes (item 3 reversed)",
        "dast10",
        all_items("dast10", 1, numbers=range(1, 11)),
        None,
        Expected(9, "severe"),
    ),
    (
        "cadss6 all 4s",
        "cadss6",
        all_items("cadss6", 4, numbers=range(1, 7)),
        None,
        Expected(24, None),
    ),
    (
        "phq8 all 3s is severe and raises no alert (no item 9)",
        "phq8",
        all_items("phq8", 3, numbers=range(1, 9)),
        None,
        Expected(24, "severe"),
    ),
    (
        "gad2 3 is positive",
        "gad2",
        {"gad2-1": 2, "gad2-2": 1},
        None,
        Expected(3, None, ["gad2_positive"]),
    ),
    (
        "hamd17 every item at its highest is 52, severe, item 3 alerts",
        "hamd17",
        {
            f"hamd17-{n}": 4 if n in (1, 2, 3, 7, 8, 9, 10, 11, 15) else 2
            for n in range(1, 18)
        },
        None,
        Expected(52, "severe", ["hamd17_item3_positive"], safety_alert=True),
    ),
]


def bad_values(code: str, link_id: str) -> list[tuple[Any, str]]:
    """Values an item must refuse, each with the kind of refusal: (value, "type" | "option")."""
    values = INSTRUMENTS[code].item(link_id).option_values
    not_options = sorted({7, -1, max(values) + 1, min(values) - 1} - values)
    return [
        *((v, "option") for v in not_options),
        ("2", "type"),
        (2.0, "type"),
        (True, "type"),
        (False, "type"),
        ([1], "type"),
        ({"value": 1}, "type"),
    ]
