"""Table-driven tests of the pure TMS rules against the published values (docs/sources.md T1-T12, B2)."""

from datetime import date
from decimal import Decimal

import pytest

from neuroclinic.tms import course_plan, intensity, protocols, screening
from neuroclinic.tms.course_plan import Cpt, Phase
from neuroclinic.tms.protocols import ACCELERATED_ITBS, ITBS, RTMS_10HZ, ProtocolError

D = Decimal
NO = {item.key: False for item in screening.SCREEN_ITEMS}


# Screening (T6, T9) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("yes", "outcome", "exclusions", "cautions"),
    [
        ((), "clear", (), ()),
        (("metal_in_head",), "excluded", ("metal_in_head",), ()),
        (("cardiac_device",), "excluded", ("cardiac_device",), ()),
        (("implanted_stimulator",), "excluded", ("implanted_stimulator",), ()),
        (("cochlear_implant",), "excluded", ("cochlear_implant",), ()),
        (("epilepsy",), "needs_review", (), ("epilepsy",)),
        (("pregnancy",), "needs_review", (), ("pregnancy",)),
        (
            ("threshold_lowering_medication",),
            "needs_review",
            (),
            ("threshold_lowering_medication",),
        ),
        (
            ("raised_intracranial_pressure",),
            "needs_review",
            (),
            ("raised_intracranial_pressure",),
        ),
        (("hearing",), "needs_review", (), ("hearing",)),
        # An exclusion wins over a caution, and both are listed.
        (("epilepsy", "metal_in_head"), "excluded", ("metal_in_head",), ("epilepsy",)),
    ],
)
def test_screen_outcome(
    yes: tuple[str, ...],
    outcome: str,
    exclusions: tuple[str, ...],
    cautions: tuple[str, ...],
) -> None:
    result = screening.evaluate_screen({**NO, **dict.fromkeys(yes, True)})
    assert (result.outcome, result.exclusions, result.cautions) == (
        outcome,
        exclusions,
        cautions,
    )


def test_device_label_contraindications_are_the_exclusions() -> None:
    exclusions = {
        i.key for i in screening.SCREEN_ITEMS if i.kind is screening.Kind.EXCLUSION
    }
    assert exclusions == {
        "metal_in_head",
        "cochlear_implant",
        "implanted_stimulator",
        "cardiac_device",
        "medication_pump",
    }


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({k: v for k, v in NO.items() if k != "epilepsy"}, "epilepsy"),
        ({**NO, "pregnancy": "yes"}, "pregnancy"),
        ({**NO, "shoe_size": False}, "answers"),
    ],
)
def test_screen_refuses_unanswered_or_unknown(
    answers: dict[str, object], field: str
) -> None:
    with pytest.raises(screening.ScreenInputError) as caught:
        screening.evaluate_screen(answers)
    assert field in caught.value.errors


DAILY_OK = {
    "metal_removed": True,
    "ear_protection": True,
    "alcohol_or_drugs": False,
    "medication_change": False,
    "poor_sleep": False,
}


@pytest.mark.parametrize(
    ("changes", "hard_stops", "cautions"),
    [
        ({}, (), ()),
        ({"metal_removed": False}, ("metal_removed",), ()),
        ({"ear_protection": False}, ("ear_protection",), ()),
        ({"alcohol_or_drugs": True}, ("alcohol_or_drugs",), ()),
        ({"medication_change": True}, (), ("medication_change",)),
        ({"poor_sleep": True}, (), ("poor_sleep",)),
    ],
)
def test_daily_check(
    changes: dict[str, bool], hard_stops: tuple[str, ...], cautions: tuple[str, ...]
) -> None:
    result = screening.evaluate_daily_check({**DAILY_OK, **changes})
    assert (result.hard_stops, result.cautions) == (hard_stops, cautions)
    assert result.may_proceed is (not hard_stops)


def test_daily_check_needs_every_answer() -> None:
    with pytest.raises(screening.ScreenInputError):
        screening.evaluate_daily_check({"metal_removed": True})


# Protocols (T2, T3, T4) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "pulses", "seconds", "percent_mt", "per_day", "interval"),
    [
        (RTMS_10HZ, 3000, 2224, 120, 1, 0),  # T2: 3000 pulses, ~37.5 min, 120 % rMT
        (ITBS, 600, 192, 120, 1, 0),  # T2, T3: 600 pulses, ~3 min
        (
            ACCELERATED_ITBS,
            1800,
            592,
            90,
            10,
            50,
        ),  # T4: 1800 pulses, 10 a day, 50 min, 90 %
    ],
)
def test_protocol_defaults(
    parameters: protocols.ProtocolParameters,
    pulses: int,
    seconds: int,
    percent_mt: int,
    per_day: int,
    interval: int,
) -> None:
    assert parameters.pulses_per_session == pulses
    assert parameters.session_seconds == seconds
    assert parameters.percent_of_mt == percent_mt
    assert (parameters.sessions_per_day, parameters.min_interval_minutes) == (
        per_day,
        interval,
    )


@pytest.mark.parametrize(
    ("parameters", "trains", "pulses"),
    [
        (RTMS_10HZ, None, 3000),
        (RTMS_10HZ, 10, 400),
        (ITBS, None, 600),
        (ACCELERATED_ITBS, 1, 30),
    ],
)
def test_pulses_planned(
    parameters: protocols.ProtocolParameters, trains: int | None, pulses: int
) -> None:
    assert protocols.pulses_planned(parameters, trains=trains) == pulses


@pytest.mark.parametrize("trains", [0, 76, -1])
def test_pulses_planned_refuses_impossible_trains(trains: int) -> None:
    with pytest.raises(ProtocolError):
        protocols.pulses_planned(RTMS_10HZ, trains=trains)


@pytest.mark.parametrize(
    ("planned", "delivered", "ok"),
    [
        (3000, 3000, True),
        (3000, 1200, True),
        (3000, 0, True),
        (3000, 3001, False),
        (600, -1, False),
    ],
)
def test_delivered_never_above_planned(planned: int, delivered: int, ok: bool) -> None:
    if ok:
        protocols.check_delivered(planned=planned, delivered=delivered)
    else:
        with pytest.raises(ProtocolError) as caught:
            protocols.check_delivered(planned=planned, delivered=delivered)
        assert caught.value.field == "pulses_delivered"


@pytest.mark.parametrize(
    ("parameters", "weeks", "sessions"),
    [(RTMS_10HZ, 4, 20), (RTMS_10HZ, 6, 30), (ITBS, 5, 25), (ACCELERATED_ITBS, 1, 50)],
)
def test_acute_course_length(
    parameters: protocols.ProtocolParameters, weeks: int, sessions: int
) -> None:
    # T1: 20-30 sessions; T4: 50 sessions over 5 days.
    assert protocols.acute_sessions(parameters, weeks=weeks) == sessions


@pytest.mark.parametrize(
    ("parameters", "weeks"), [(RTMS_10HZ, 3), (RTMS_10HZ, 7), (ACCELERATED_ITBS, 2)]
)
def test_acute_course_outside_range_refused(
    parameters: protocols.ProtocolParameters, weeks: int
) -> None:
    with pytest.raises(ProtocolError):
        protocols.acute_sessions(parameters, weeks=weeks)


def test_unknown_protocol_refused() -> None:
    with pytest.raises(ProtocolError):
        protocols.protocol("deep-tms")


# Intensity from motor threshold (T5) ---------------------------------------------


@pytest.mark.parametrize(
    ("mt", "percent", "output", "delivered_mt"),
    [
        (55, D(120), 66, D("120.0")),  # exact
        (63, D(120), 75, D("119.0")),  # 75.6 rounded down, never above the prescription
        (57, D(120), 68, D("119.2")),
        (50, D(90), 45, D("90.0")),  # accelerated 90 % (T4)
        (83, D(120), 99, D("119.2")),  # 99.6 -> 99
        (1, D(100), 1, D("100.0")),
        (100, D(100), 100, D("100.0")),
        (70, D("112.5"), 78, D("111.4")),  # ramp-up step; 78.75 -> 78
    ],
)
def test_intensity_from_threshold(
    mt: int, percent: Decimal, output: int, delivered_mt: Decimal
) -> None:
    result = intensity.treatment_intensity(
        threshold_percent_output=mt, percent_of_mt=percent, max_percent_of_mt=D(120)
    )
    assert result.output_percent == output
    assert result.delivered_percent_of_mt == delivered_mt
    assert f"set {output} %" in result.working


@pytest.mark.parametrize(
    ("mt", "percent", "device_max", "field", "words"),
    [
        (0, D(120), 100, "threshold_percent_output", "1-100"),
        (101, D(120), 100, "threshold_percent_output", "1-100"),
        (60, D(121), 100, "percent_of_mt", "above the protocol's maximum"),
        (60, D(0), 100, "percent_of_mt", "positive"),
        (84, D(120), 100, "percent_of_mt", "device's maximum"),  # 100.8 % output
        (70, D(120), 80, "percent_of_mt", "device's maximum"),  # 84 % on an 80 % device
    ],
)
def test_intensity_refusals(
    mt: int, percent: Decimal, device_max: int, field: str, words: str
) -> None:
    with pytest.raises(intensity.IntensityError) as caught:
        intensity.treatment_intensity(
            threshold_percent_output=mt,
            percent_of_mt=percent,
            max_percent_of_mt=D(120),
            device_max_output_percent=device_max,
        )
    assert caught.value.field == field
    assert words in caught.value.message


# Course plan, taper, interval, CPT (T1, T4, T10, B2) ---------------------------------


MONDAY = date(2026, 1, 5)


def test_weekday_course_skips_weekends_and_closed_days() -> None:
    plan = course_plan.planned_sessions(
        RTMS_10HZ, start=MONDAY, acute_sessions=6, closed_days={date(2026, 1, 7)}
    )
    assert [p.on.isoformat() for p in plan] == [
        "2026-01-05",
        "2026-01-06",
        "2026-01-08",
        "2026-01-09",
        "2026-01-12",
        "2026-01-13",
    ]
    assert {p.slot_in_day for p in plan} == {1}


def test_thirty_sessions_with_taper_is_thirty_six() -> None:
    plan = course_plan.planned_sessions(
        RTMS_10HZ, start=MONDAY, acute_sessions=30, taper=True
    )
    assert (
        len(plan)
        == 36
        == course_plan.course_length(RTMS_10HZ, acute_sessions=30, taper=True)
    )
    taper = [p for p in plan if p.phase is Phase.TAPER]
    assert [p.on.isoformat() for p in taper] == [
        "2026-02-16",
        "2026-02-18",
        "2026-02-20",  # 3 the first week
        "2026-02-23",
        "2026-02-26",  # 2 the second
        "2026-03-02",  # 1 the third (T10: 6 over 3 weeks)
    ]


def test_accelerated_course_is_ten_a_day_hourly() -> None:
    plan = course_plan.planned_sessions(
        ACCELERATED_ITBS, start=MONDAY, acute_sessions=50
    )
    days = sorted({p.on for p in plan})
    assert len(days) == 5
    assert days[-1] == date(2026, 1, 9)
    first_day = [p for p in plan if p.on == MONDAY]
    assert [p.earliest_offset_minutes for p in first_day] == [
        i * 60 for i in range(10)
    ]  # 10 min + 50 min interval


@pytest.mark.parametrize("sessions", [0, 81])
def test_course_size_refused(sessions: int) -> None:
    with pytest.raises(ProtocolError):
        course_plan.planned_sessions(ITBS, start=MONDAY, acute_sessions=sessions)


@pytest.mark.parametrize(
    ("parameters", "minutes", "ok"),
    [
        (RTMS_10HZ, None, True),
        (RTMS_10HZ, 300, False),  # one a day
        (ACCELERATED_ITBS, 50, True),
        (ACCELERATED_ITBS, 49, False),
        (ACCELERATED_ITBS, None, True),
    ],
)
def test_interval_between_sessions(
    parameters: protocols.ProtocolParameters, minutes: int | None, ok: bool
) -> None:
    if ok:
        course_plan.check_interval(parameters, minutes_since_last_today=minutes)
    else:
        with pytest.raises(ProtocolError):
            course_plan.check_interval(parameters, minutes_since_last_today=minutes)


@pytest.mark.parametrize(
    ("first", "new_threshold", "code"),
    [
        (True, True, Cpt.INITIAL),
        (True, False, Cpt.INITIAL),
        (False, True, Cpt.REDETERMINATION),
        (False, False, Cpt.SUBSEQUENT),
    ],
)
def test_cpt_code(first: bool, new_threshold: bool, code: Cpt) -> None:
    # B2: 90867 initial with threshold; 90869 re-determination; 90868 subsequent.
    assert (
        course_plan.cpt_code(first_session_of_course=first, new_threshold=new_threshold)
        == code
    )
