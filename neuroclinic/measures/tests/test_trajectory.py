"""Trajectory chart: well-formed, accessible, escaped, and drawn to scale.

Pure tests: no Django, no database.
"""

import ast
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroclinic.measures import trajectory
from neuroclinic.measures.instruments import Band, Severity, get_instrument
from neuroclinic.measures.outcomes import RESPONSE_REDUCTION_PERCENT
from neuroclinic.measures.trajectory import (
    TrajectoryEvent,
    TrajectoryPoint,
    TrajectoryRow,
    trajectory_rows,
    trajectory_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
PHQ9 = get_instrument("phq9")
START = date(2026, 1, 5)

# A PHQ-9 course: baseline 21, six infusions, a booster, latest 6.
COURSE = [
    TrajectoryPoint(START, 21),
    TrajectoryPoint(START + timedelta(days=14), 12),
    TrajectoryPoint(START + timedelta(days=28), 9),
    TrajectoryPoint(date(2026, 3, 1), 6),
]
INFUSIONS = [
    TrajectoryEvent(START + timedelta(days=offset), f"#{number}")
    for number, offset in enumerate([0, 2, 4, 7, 9, 11], start=1)
]
BOOSTER = TrajectoryEvent(START + timedelta(days=42), "Booster")


# Helpers -------------------------------------------------------------------------


def parse(source: str) -> ET.Element:
    return ET.fromstring(source)  # noqa: S314 -- our own markup, made in the test


def chart(**overrides: object) -> ET.Element:
    arguments: dict[str, object] = {
        "title": "PHQ-9",
        "points": COURSE,
        "bands": PHQ9.bands,
        "y_max": 27,
        "events": [*INFUSIONS, BOOSTER],
        "baseline": 21,
        "remission_max": 4,
    }
    return parse(trajectory_svg(**(arguments | overrides)))  # type: ignore[arg-type]


def markers(root: ET.Element) -> list[ET.Element]:
    return [
        element
        for element in root.iter(f"{SVG}circle")
        if element.get("class") == "trajectory-point"
    ]


def line_y(root: ET.Element, name: str) -> float:
    (line,) = [
        element
        for element in root.iter(f"{SVG}line")
        if element.get("class") == f"trajectory-{name}"
    ]
    assert line.get("y1") == line.get("y2")
    return float(line.get("y1", "nan"))


def plot_top_and_bottom(root: ET.Element) -> tuple[float, float]:
    """The y axis runs from y_max (top) to 0 (bottom)."""
    axes = next(
        group
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "trajectory-axes"
    )
    y_axis = next(
        line
        for line in axes.iter(f"{SVG}line")
        if line.get("x1") == line.get("x2") and line.get("y1") != line.get("y2")
    )
    return float(y_axis.get("y1", "nan")), float(y_axis.get("y2", "nan"))


def y_scale(root: ET.Element, y_max: int) -> "Scale":
    top, bottom = plot_top_and_bottom(root)
    return Scale(top=top, bottom=bottom, y_max=y_max)


class Scale:
    def __init__(self, *, top: float, bottom: float, y_max: int) -> None:
        self.top, self.bottom, self.y_max = top, bottom, y_max

    def __call__(self, value: float) -> float:
        return self.bottom - value / self.y_max * (self.bottom - self.top)


def texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


# Structure and accessibility -------------------------------------------------------


def test_chart_is_an_accessible_image_with_title_and_one_sentence_desc() -> None:
    root = chart()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert title is not None
    assert desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "PHQ-9"
    assert desc.text == (
        "PHQ-9 from 21 on 2026-01-05 to 6 on 2026-03-01 (4 scores); latest score mild,"
        " 71.4% below baseline 21, response reached; not in remission (needs 4 or less);"
        " 7 treatment events marked."
    )


@pytest.mark.parametrize(
    ("points", "baseline", "remission_max", "desc"),
    [
        ([], 21, 4, "PHQ-9: no scores recorded."),
        (
            [TrajectoryPoint(START, 21)],
            21,
            None,
            "PHQ-9: one score, 21 on 2026-01-05; latest score severe, at baseline 21,"
            " response not reached.",
        ),
        (
            [TrajectoryPoint(START, 20), TrajectoryPoint(date(2026, 2, 2), 11)],
            20,
            4,
            "PHQ-9 from 20 on 2026-01-05 to 11 on 2026-02-02 (2 scores); latest score"
            " moderate, 45.0% below baseline 20, response not reached; not in remission"
            " (needs 4 or less).",
        ),
        (
            [TrajectoryPoint(START, 20), TrajectoryPoint(date(2026, 2, 2), 4)],
            20,
            4,
            "PHQ-9 from 20 on 2026-01-05 to 4 on 2026-02-02 (2 scores); latest score"
            " minimal, 80.0% below baseline 20, response reached; remission reached"
            " (4 or less).",
        ),
        (
            [TrajectoryPoint(START, 10), TrajectoryPoint(date(2026, 2, 2), 12)],
            None,
            None,
            "PHQ-9 from 10 on 2026-01-05 to 12 on 2026-02-02 (2 scores); latest score"
            " moderate.",
        ),
    ],
)
def test_desc_summarises_range_band_response_and_remission(
    points: list[TrajectoryPoint],
    baseline: int | None,
    remission_max: int | None,
    desc: str,
) -> None:
    root = chart(
        points=points, events=[], baseline=baseline, remission_max=remission_max
    )

    assert root.findtext(f"{SVG}desc") == desc


def test_nothing_a_strict_csp_would_block() -> None:
    root = chart()

    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in {
            "script",
            "style",
            "foreignObject",
            "image",
            "a",
            "use",
        }
        for attribute in element.attrib:
            assert attribute != "style"
            assert not attribute.startswith("on")
            assert "href" not in attribute


HOSTILE = "<script>alert(\"x\")</script> & 'quotes' ]]> \x00\x1b\ufffe"


def test_hostile_text_is_escaped_and_stays_text() -> None:
    source = trajectory_svg(
        title=HOSTILE,
        points=COURSE,
        bands=PHQ9.bands,
        y_max=27,
        events=[TrajectoryEvent(START, HOSTILE)],
        baseline=21,
    )
    root = parse(source)
    cleaned = "<script>alert(\"x\")</script> & 'quotes' ]]> "

    assert "<script" not in source
    assert not list(root.iter(f"{SVG}script"))
    assert root.findtext(f"{SVG}title") == cleaned
    assert cleaned in texts(root)  # the visible heading
    assert (root.findtext(f"{SVG}desc") or "").startswith(cleaned)
    event_titles = [
        element.findtext(f"{SVG}title")
        for element in root.iter(f"{SVG}line")
        if element.find(f"{SVG}title") is not None
    ]
    assert f"2026-01-05: {cleaned}" in event_titles


def test_a_long_title_is_cut_in_the_heading_but_whole_in_the_title() -> None:
    long_title = "Quick Inventory of Depressive Symptomatology, Self-Report " * 3
    root = chart(title=long_title, width=480)
    heading = next(
        element
        for element in root.iter(f"{SVG}text")
        if element.get("class") == "trajectory-heading"
    )

    assert root.findtext(f"{SVG}title") == long_title
    assert (heading.text or "").endswith("\u2026")
    assert len(heading.text or "") < 60


def test_two_charts_get_distinct_ids_and_one_chart_always_the_same() -> None:
    first = chart().get("aria-labelledby")

    assert first == chart().get("aria-labelledby")
    assert first != chart(title="GAD-7").get("aria-labelledby")


# Scores ------------------------------------------------------------------------------


def test_one_marker_per_point_in_date_order_with_date_and_score_titles() -> None:
    shuffled = [COURSE[2], COURSE[0], COURSE[3], COURSE[1]]
    root = chart(points=shuffled)
    circles = markers(root)

    assert len(circles) == len(COURSE)
    xs = [float(circle.get("cx", "nan")) for circle in circles]
    assert xs == sorted(xs)
    assert [circle.findtext(f"{SVG}title") for circle in circles] == [
        "2026-01-05: 21, +0.0% from baseline (Severe)",
        "2026-01-19: 12, -42.9% from baseline (Moderate)",
        "2026-02-02: 9, -57.1% from baseline (Mild)",
        "2026-03-01: 6, -71.4% from baseline (Mild)",
    ]


def test_markers_sit_at_their_scores() -> None:
    root = chart()
    y = y_scale(root, 27)

    for circle, point in zip(markers(root), COURSE, strict=True):
        assert float(circle.get("cy", "nan")) == pytest.approx(y(point.total), abs=0.06)


def test_no_points_draws_an_empty_chart_that_says_so() -> None:
    root = chart(points=[], events=[])

    assert markers(root) == []
    assert not list(root.iter(f"{SVG}polyline"))
    assert "No scores recorded yet" in texts(root)


def test_one_point_is_a_marker_without_a_line() -> None:
    root = chart(points=[COURSE[0]], events=[])

    assert len(markers(root)) == 1
    assert not list(root.iter(f"{SVG}polyline"))
    assert "Jan 5" in texts(root)


def test_500_points_get_thin_markers() -> None:
    points = [
        TrajectoryPoint(START + timedelta(days=day), (day * 7) % 28)
        for day in range(500)
    ]
    root = chart(points=points, events=[])
    circles = markers(root)

    assert len(circles) == 500
    assert all(float(circle.get("r", "nan")) < 2 for circle in circles)
    (polyline,) = root.iter(f"{SVG}polyline")
    assert len(polyline.get("points", "").split()) == 500


def test_few_points_get_full_size_markers() -> None:
    assert {circle.get("r") for circle in markers(chart())} == {"4"}


# Scale, bands and reference lines ----------------------------------------------------


def test_bands_are_shaded_to_scale_half_a_point_beyond_their_totals() -> None:
    root = chart()
    y = y_scale(root, 27)
    bands = next(
        group
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "trajectory-bands"
    )
    rects = list(bands.iter(f"{SVG}rect"))

    assert len(rects) == len(PHQ9.bands)
    assert len({rect.get("fill") for rect in rects}) == len(rects)  # distinct fills
    for rect, band in zip(rects, PHQ9.bands, strict=True):
        top = float(rect.get("y", "nan"))
        bottom = top + float(rect.get("height", "nan"))
        assert top == pytest.approx(y(min(band.highest + 0.5, 27)), abs=0.1)
        assert bottom == pytest.approx(y(max(band.lowest - 0.5, 0)), abs=0.1)
    labels = texts(bands)
    assert labels == ["Minimal", "Mild", "Moderate", "Moderately severe", "Severe"]


def test_y_ticks_are_the_band_cut_offs_and_sit_on_the_scale() -> None:
    root = chart()
    y = y_scale(root, 27)
    axes = next(
        group
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "trajectory-axes"
    )
    ticks = {
        element.text or "": float(element.get("y", "nan")) - 4
        for element in axes.iter(f"{SVG}text")
        if element.get("text-anchor") == "end"
    }

    assert list(ticks) == ["0", "5", "10", "15", "20", "27"]
    for label, tick_y in ticks.items():
        assert tick_y == pytest.approx(y(int(label)), abs=0.1)


@pytest.mark.parametrize("baseline", [21, 20, 7, 1, 27])
def test_response_line_is_at_half_the_baseline(baseline: int) -> None:
    root = chart(baseline=baseline, remission_max=None)
    y = y_scale(root, 27)

    assert line_y(root, "baseline") == pytest.approx(y(baseline), abs=0.06)
    assert line_y(root, "response") == pytest.approx(y(baseline / 2), abs=0.06)


def test_response_line_label_names_the_threshold() -> None:
    assert "Response \u2264 10.5 (50% below baseline)" in texts(chart())
    assert "Response \u2264 10 (50% below baseline)" in texts(chart(baseline=20))


# The clinic's response percentage (OutcomeRules): where the line sits, what it says,
# and whether the latest score is called a response in the description.
@pytest.mark.parametrize(
    ("percent", "at", "label", "reached"),
    [
        (50, 10, "Response \u2264 10 (50% below baseline)", False),
        (40, 12, "Response \u2264 12 (40% below baseline)", True),
        (45, 11, "Response \u2264 11 (45% below baseline)", True),
        (75, 5, "Response \u2264 5 (75% below baseline)", False),
    ],
)
def test_the_clinics_response_percentage_moves_the_line(
    percent: int, at: int, label: str, reached: bool
) -> None:
    root = chart(
        points=[TrajectoryPoint(START, 20), TrajectoryPoint(date(2026, 2, 2), 11)],
        baseline=20,
        response_reduction_percent=percent,
    )
    assert line_y(root, "response") == pytest.approx(y_scale(root, 27)(at), abs=0.06)
    assert label in texts(root)
    desc = "".join(root.find(f"{SVG}desc").itertext())  # type: ignore[union-attr]
    assert ("response reached" if reached else "response not reached") in desc


@pytest.mark.parametrize("percent", [0, 101, True])
def test_a_response_percentage_outside_1_to_100_is_refused(percent: int) -> None:
    with pytest.raises(ValueError, match="response_reduction_percent"):
        chart(response_reduction_percent=percent)


def test_remission_line_at_the_threshold_when_given() -> None:
    root = chart()

    assert line_y(root, "remission") == pytest.approx(y_scale(root, 27)(4), abs=0.06)
    assert "Remission \u2264 4" in texts(root)


@pytest.mark.parametrize(
    ("overrides", "drawn"),
    [
        ({}, {"baseline", "response", "remission"}),
        ({"response_line": False}, {"baseline", "remission"}),
        ({"remission_max": None}, {"baseline", "response"}),
        ({"baseline": None}, {"remission"}),
        ({"baseline": 0, "remission_max": None}, {"baseline"}),
    ],
)
def test_reference_lines_drawn_only_when_asked(
    overrides: dict[str, object], drawn: set[str]
) -> None:
    root = chart(**overrides)
    classes = {
        (element.get("class") or "").removeprefix("trajectory-")
        for element in root.iter(f"{SVG}line")
        if element.get("class")
    }

    assert classes == drawn


def test_response_line_uses_the_response_rule() -> None:
    # A score on the line is a response (outcomes.is_response: at least 50% off).
    assert RESPONSE_REDUCTION_PERCENT == 50
    root = chart(
        points=[TrajectoryPoint(START, 20), TrajectoryPoint(date(2026, 2, 2), 10)],
        baseline=20,
    )

    assert float(markers(root)[1].get("cy", "nan")) == pytest.approx(
        line_y(root, "response"), abs=0.06
    )
    assert "response reached" in (root.findtext(f"{SVG}desc") or "")


# Events and dates --------------------------------------------------------------------


def test_events_are_dashed_verticals_with_labels_and_titles() -> None:
    root = chart()
    events = next(
        group
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "trajectory-events"
    )
    lines = list(events.iter(f"{SVG}line"))

    assert len(lines) == 7
    assert all(
        line.get("x1") == line.get("x2") and line.get("stroke-dasharray")
        for line in lines
    )
    assert [line.findtext(f"{SVG}title") for line in lines][-1] == "2026-02-16: Booster"
    labels = [element.text for element in events.iter(f"{SVG}text")]
    assert labels == ["#1", "#2", "#3", "#4", "#5", "#6", "Booster"]


def test_event_on_a_score_date_is_drawn_at_that_score() -> None:
    root = chart()
    first_event = next(
        line
        for line in root.iter(f"{SVG}line")
        if line.findtext(f"{SVG}title") == "2026-01-05: #1"
    )

    assert first_event.get("x1") == markers(root)[0].get("cx")


def test_crowded_long_event_labels_keep_their_line_and_title() -> None:
    events = [
        TrajectoryEvent(START + timedelta(days=day), f"Infusion number {day}")
        for day in range(8)
    ]
    root = chart(events=events)
    group = next(
        g for g in root.iter(f"{SVG}g") if g.get("class") == "trajectory-events"
    )

    assert len(list(group.iter(f"{SVG}line"))) == 8
    assert 0 < len(list(group.iter(f"{SVG}text"))) < 8


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([TrajectoryPoint(START, 5)], ["Jan 5", "2026"]),
        (
            [
                TrajectoryPoint(date(2025, 11, 20), 5),
                TrajectoryPoint(date(2026, 2, 20), 5),
            ],
            ["Dec 1", "2025", "Jan 1", "2026", "Feb 1"],
        ),
    ],
)
def test_date_ticks_read_as_month_and_day_with_the_year(
    points: list[TrajectoryPoint], expected: list[str]
) -> None:
    root = chart(points=points, events=[], width=480)
    axes = next(
        group
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "trajectory-axes"
    )
    labels = [
        element.text or ""
        for element in axes.iter(f"{SVG}text")
        if element.get("text-anchor") == "middle"
    ]

    assert labels == expected


# Rows ---------------------------------------------------------------------------------


def test_rows_give_date_score_change_and_band_oldest_first() -> None:
    rows = trajectory_rows(list(reversed(COURSE)), 21, bands=PHQ9.bands)

    assert rows == [
        TrajectoryRow(START, 21, Decimal("0.0"), Severity.SEVERE),
        TrajectoryRow(date(2026, 1, 19), 12, Decimal("-42.9"), Severity.MODERATE),
        TrajectoryRow(date(2026, 2, 2), 9, Decimal("-57.1"), Severity.MILD),
        TrajectoryRow(date(2026, 3, 1), 6, Decimal("-71.4"), Severity.MILD),
    ]
    assert rows[0].band_label == "Severe"
    date_, score, change, band = rows[1]  # still a plain tuple
    assert (date_, score, change, band) == (
        date(2026, 1, 19),
        12,
        Decimal("-42.9"),
        Severity.MODERATE,
    )


@pytest.mark.parametrize("baseline", [None, 0])
def test_rows_without_a_usable_baseline_have_no_change(baseline: int | None) -> None:
    (row,) = trajectory_rows([TrajectoryPoint(START, 3)], baseline)

    assert row.change_percent is None
    assert row.band is None
    assert row.band_label == ""


def test_rows_of_moderately_severe_read_as_words() -> None:
    (row,) = trajectory_rows([TrajectoryPoint(START, 17)], 20, bands=PHQ9.bands)

    assert row.band_label == "Moderately severe"


# Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"points": [TrajectoryPoint(START, 28)]}, ValueError),
        ({"points": [TrajectoryPoint(START, -1)]}, ValueError),
        ({"points": [TrajectoryPoint(START, True)]}, TypeError),
        ({"baseline": 30}, ValueError),
        ({"remission_max": -1}, ValueError),
        ({"y_max": 0}, ValueError),
        ({"width": 200}, ValueError),
        ({"height": 100}, ValueError),
    ],
)
def test_out_of_range_input_is_refused(
    overrides: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        chart(**overrides)


# Properties ---------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def charts(
    draw: st.DrawFn,
) -> tuple[int, list[TrajectoryPoint], list[TrajectoryEvent], int | None, list[Band]]:
    y_max = draw(st.integers(min_value=1, max_value=150))
    totals = st.integers(min_value=0, max_value=y_max)
    points = draw(st.lists(st.builds(TrajectoryPoint, dates, totals), max_size=60))
    events = draw(
        st.lists(st.builds(TrajectoryEvent, dates, st.text(max_size=20)), max_size=8)
    )
    baseline = draw(st.none() | totals)
    cut = draw(st.integers(min_value=0, max_value=y_max))
    bands = [Band(0, cut, Severity.MILD)] + (
        [Band(cut + 1, y_max, Severity.SEVERE)] if cut < y_max else []
    )
    return y_max, points, events, baseline, draw(st.sampled_from([bands, []]))


@settings(max_examples=150, deadline=None)
@given(charts(), st.text(max_size=40))
def test_any_points_in_range_make_well_formed_svg(
    case: tuple[
        int, list[TrajectoryPoint], list[TrajectoryEvent], int | None, list[Band]
    ],
    title: str,
) -> None:
    y_max, points, events, baseline, bands = case
    root = parse(
        trajectory_svg(
            title=title,
            points=points,
            bands=bands,
            y_max=y_max,
            events=events,
            baseline=baseline,
            remission_max=y_max // 4,
        )
    )

    assert len(markers(root)) == len(points)
    assert root.find(f"{SVG}title") is not None
    assert (root.findtext(f"{SVG}desc") or "").endswith(".")
    width, height = float(root.get("width", "nan")), float(root.get("height", "nan"))
    for circle in markers(root):
        assert 0 <= float(circle.get("cx", "nan")) <= width
        assert 0 <= float(circle.get("cy", "nan")) <= height


# Purity -------------------------------------------------------------------------------


def test_trajectory_imports_only_the_standard_library_and_pure_measures() -> None:
    tree = ast.parse(Path(trajectory.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in sys.stdlib_module_names or name.startswith(
                "neuroclinic.measures."
            ), name
