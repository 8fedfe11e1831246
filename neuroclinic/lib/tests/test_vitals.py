from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroclinic.lib import vitals as vital_rules
from neuroclinic.lib.vitals import (
    CRITICAL_CODES,
    AlarmCode,
    AlarmSeverity,
    AlarmThresholds,
    TimedVitalSigns,
    VitalSigns,
    check_plausible,
    evaluate_alarms,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NORMAL = VitalSigns(
    systolic_mmhg=120,
    diastolic_mmhg=80,
    heart_rate_bpm=75,
    spo2_percent=98,
    respiratory_rate_per_min=14,
)
DEFAULTS = AlarmThresholds()


def vitals(**changes: object) -> VitalSigns:
    return replace(NORMAL, **changes)  # type: ignore[arg-type]  # tests pass odd types on purpose


def at(minute: float, **changes: object) -> TimedVitalSigns:
    return TimedVitalSigns(
        taken_at=START + timedelta(minutes=minute), vitals=vitals(**changes)
    )


def codes(
    readings: list[TimedVitalSigns], thresholds: AlarmThresholds = DEFAULTS
) -> list[str]:
    return [alarm.code for alarm in evaluate_alarms(readings, thresholds)]


def test_normal_reading_is_plausible() -> None:
    assert check_plausible(NORMAL) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"spo2_percent": 100},
        {"spo2_percent": 50},
        {"systolic_mmhg": 300, "diastolic_mmhg": 200},
        {"systolic_mmhg": 50, "diastolic_mmhg": 20},
        {"heart_rate_bpm": 20},
        {"heart_rate_bpm": 250},
        {"respiratory_rate_per_min": 4},
        {"respiratory_rate_per_min": 60},
        {"etco2_mmhg": 0},
        {"etco2_mmhg": 100},
        {"spo2_percent": Decimal("97.5"), "heart_rate_bpm": Decimal(88)},
    ],
)
def test_values_at_the_edges_of_the_plausible_ranges_are_accepted(
    changes: dict[str, object],
) -> None:
    assert check_plausible(vitals(**changes)) == []


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"spo2_percent": 101}, ["spo2_percent"]),
        ({"spo2_percent": 49}, ["spo2_percent"]),
        # BP 400/20: the systolic is impossible; the diastolic is at its floor.
        ({"systolic_mmhg": 400, "diastolic_mmhg": 20}, ["systolic_mmhg"]),
        ({"systolic_mmhg": 49, "diastolic_mmhg": 30}, ["systolic_mmhg"]),
        ({"diastolic_mmhg": 19}, ["diastolic_mmhg"]),
        ({"systolic_mmhg": 250, "diastolic_mmhg": 201}, ["diastolic_mmhg"]),
        ({"systolic_mmhg": 120, "diastolic_mmhg": 120}, ["diastolic_mmhg"]),
        ({"systolic_mmhg": 90, "diastolic_mmhg": 140}, ["diastolic_mmhg"]),
        ({"heart_rate_bpm": 0}, ["heart_rate_bpm"]),
        ({"heart_rate_bpm": 251}, ["heart_rate_bpm"]),
        ({"respiratory_rate_per_min": 3}, ["respiratory_rate_per_min"]),
        ({"respiratory_rate_per_min": 61}, ["respiratory_rate_per_min"]),
        ({"etco2_mmhg": -1}, ["etco2_mmhg"]),
        ({"etco2_mmhg": 101}, ["etco2_mmhg"]),
        ({"spo2_percent": 97.0}, ["spo2_percent"]),
        ({"heart_rate_bpm": True}, ["heart_rate_bpm"]),
        ({"heart_rate_bpm": "75"}, ["heart_rate_bpm"]),
        ({"heart_rate_bpm": Decimal("NaN")}, ["heart_rate_bpm"]),
        (
            {"spo2_percent": 0, "heart_rate_bpm": 0, "respiratory_rate_per_min": 0},
            ["heart_rate_bpm", "spo2_percent", "respiratory_rate_per_min"],
        ),
    ],
)
def test_implausible_values_are_reported_per_field(
    changes: dict[str, object], fields: list[str]
) -> None:
    errors = check_plausible(vitals(**changes))

    assert [error.field for error in errors] == fields
    assert all(error.message for error in errors)


def test_implausible_value_message_names_the_value_and_range() -> None:
    (error,) = check_plausible(vitals(spo2_percent=101))

    assert error.message == (
        "spo2_percent 101 % is outside the plausible range 50-100 %; check the entry"
    )


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ([], []),
        ([at(0)], []),
        # K22: BP > 180/110 on two readings 5 min apart.
        ([at(0, systolic_mmhg=185)], []),
        ([at(0, systolic_mmhg=185), at(5, systolic_mmhg=182)], [AlarmCode.BP_HIGH]),
        ([at(0, systolic_mmhg=185), at(2, systolic_mmhg=182)], []),
        ([at(0, diastolic_mmhg=112), at(10, diastolic_mmhg=115)], [AlarmCode.BP_HIGH]),
        ([at(0, systolic_mmhg=180, diastolic_mmhg=110), at(5, systolic_mmhg=180)], []),
        # A normal reading in between breaks the run.
        (
            [at(0, systolic_mmhg=185), at(5), at(10, systolic_mmhg=185)],
            [],
        ),
        # A 1-minute monitor feed: fires once the breach has lasted 5 minutes.
        ([at(minute, systolic_mmhg=190) for minute in range(5)], []),
        ([at(minute, systolic_mmhg=190) for minute in range(6)], [AlarmCode.BP_HIGH]),
        # K22: > 200/120 once.
        ([at(0, systolic_mmhg=205)], [AlarmCode.BP_CRITICAL]),
        ([at(0, systolic_mmhg=170, diastolic_mmhg=121)], [AlarmCode.BP_CRITICAL]),
        # The critical alarm replaces the warning for the same parameter.
        (
            [at(0, systolic_mmhg=190), at(5, systolic_mmhg=210)],
            [AlarmCode.BP_CRITICAL],
        ),
        # K22: HR > 120 sustained for 5 minutes.
        ([at(0, heart_rate_bpm=125), at(3, heart_rate_bpm=130)], []),
        (
            [at(0, heart_rate_bpm=125), at(5, heart_rate_bpm=130)],
            [AlarmCode.HEART_RATE_HIGH],
        ),
        ([at(0, heart_rate_bpm=120), at(5, heart_rate_bpm=120)], []),
        (
            [at(0, heart_rate_bpm=45), at(1, heart_rate_bpm=48)],
            [AlarmCode.HEART_RATE_LOW],
        ),
        # SpO2: two readings below 92 warn; one below 90 is critical at once.
        ([at(0, spo2_percent=91)], []),
        ([at(0, spo2_percent=91), at(1, spo2_percent=91)], [AlarmCode.SPO2_LOW]),
        ([at(0, spo2_percent=92), at(1, spo2_percent=92)], []),
        ([at(0, spo2_percent=89)], [AlarmCode.SPO2_CRITICAL]),
        ([at(0, spo2_percent=90), at(1, spo2_percent=90)], [AlarmCode.SPO2_LOW]),
        (
            [at(0, respiratory_rate_per_min=9), at(1, respiratory_rate_per_min=9)],
            [AlarmCode.RESPIRATORY_RATE_LOW],
        ),
        ([at(0, respiratory_rate_per_min=9)], []),
        # Critical alarms come first.
        (
            [at(0, systolic_mmhg=185), at(5, systolic_mmhg=185, spo2_percent=85)],
            [AlarmCode.SPO2_CRITICAL, AlarmCode.BP_HIGH],
        ),
        # Decimal readings compare like ints.
        (
            [at(0, spo2_percent=Decimal("91.5")), at(1, spo2_percent=Decimal("91.9"))],
            [AlarmCode.SPO2_LOW],
        ),
    ],
)
def test_alarms_fire_on_the_configured_runs_of_breaching_readings(
    readings: list[TimedVitalSigns], expected: list[AlarmCode]
) -> None:
    assert codes(readings) == expected


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        # Given latest-first: the two breaching readings are still the latest two.
        ([at(5, systolic_mmhg=182), at(0, systolic_mmhg=185)], [AlarmCode.BP_HIGH]),
        # The normal reading at minute 10 is the latest, even though it is listed first.
        ([at(10), at(0, systolic_mmhg=185), at(5, systolic_mmhg=182)], []),
        (
            [at(10, systolic_mmhg=185), at(0), at(5, systolic_mmhg=182)],
            [AlarmCode.BP_HIGH],
        ),
    ],
)
def test_readings_are_sorted_by_time_before_evaluation(
    readings: list[TimedVitalSigns], expected: list[AlarmCode]
) -> None:
    assert codes(readings) == expected


def test_alarm_carries_severity_action_source_and_the_run_it_saw() -> None:
    (alarm,) = evaluate_alarms(
        [at(0, systolic_mmhg=186), at(5, systolic_mmhg=188)], DEFAULTS
    )

    assert alarm.code == AlarmCode.BP_HIGH
    assert alarm.severity == AlarmSeverity.WARNING
    assert alarm.message == (
        "BP 188/80 mmHg is above 180/110 on 2 consecutive readings over 5 min"
    )
    assert "Slow or pause the infusion" in alarm.action
    assert "K22" in alarm.source
    assert alarm.taken_at == START + timedelta(minutes=5)
    assert alarm.consecutive_readings == 2


def test_critical_spo2_alarm_says_to_stop_the_infusion() -> None:
    (alarm,) = evaluate_alarms([at(0, spo2_percent=85)], DEFAULTS)

    assert alarm.severity == AlarmSeverity.CRITICAL
    assert alarm.action.startswith("Stop the infusion")
    assert "K11" in alarm.source


@pytest.mark.parametrize(
    ("thresholds", "readings", "expected"),
    [
        # None switches an alarm off.
        (
            AlarmThresholds(heart_rate_low_bpm=None, heart_rate_critical_low_bpm=None),
            [at(0, heart_rate_bpm=40), at(5, heart_rate_bpm=40)],
            [],
        ),
        (
            AlarmThresholds(systolic_critical_mmhg=None, diastolic_critical_mmhg=None),
            [at(0, systolic_mmhg=230)],
            [],
        ),
        # A clinic that wants three readings.
        (
            AlarmThresholds(bp_high_consecutive_readings=3),
            [at(0, systolic_mmhg=185), at(5, systolic_mmhg=185)],
            [],
        ),
        (
            AlarmThresholds(bp_high_consecutive_readings=3),
            [
                at(0, systolic_mmhg=185),
                at(5, systolic_mmhg=185),
                at(10, systolic_mmhg=185),
            ],
            [AlarmCode.BP_HIGH],
        ),
        # A single-reading rule for a warning alarm.
        (
            AlarmThresholds(spo2_low_consecutive_readings=1),
            [at(0, spo2_percent=91)],
            [AlarmCode.SPO2_LOW],
        ),
        # A clinic following Yip 2022 (K12) might set a higher systolic warning.
        (
            AlarmThresholds(systolic_high_mmhg=190),
            [at(0, systolic_mmhg=185), at(5, systolic_mmhg=185)],
            [],
        ),
    ],
)
def test_thresholds_are_clinic_settings(
    thresholds: AlarmThresholds,
    readings: list[TimedVitalSigns],
    expected: list[AlarmCode],
) -> None:
    assert codes(readings, thresholds) == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"bp_high_consecutive_readings": 0},
        {"spo2_low_consecutive_readings": -1},
        {"heart_rate_high_min_span_minutes": -5},
        {"systolic_critical_mmhg": 180},
        {"diastolic_critical_mmhg": 100},
        {"spo2_critical_percent": 92},
        {"respiratory_rate_critical_per_min": 10},
        {"heart_rate_critical_low_bpm": 50},
        {"systolic_critical_low_mmhg": 100},
    ],
)
def test_inconsistent_thresholds_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        AlarmThresholds(**changes)


def test_naive_reading_times_are_refused() -> None:
    naive = TimedVitalSigns(taken_at=datetime(2026, 3, 2, 9, 0), vitals=NORMAL)  # noqa: DTZ001  # the refused input

    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_alarms([naive], DEFAULTS)


readings_strategy = st.lists(
    st.builds(
        at,
        minute=st.integers(min_value=0, max_value=60),
        systolic_mmhg=st.integers(min_value=150, max_value=215),
        heart_rate_bpm=st.integers(min_value=40, max_value=140),
        spo2_percent=st.integers(min_value=85, max_value=100),
    ),
    max_size=8,
    unique_by=lambda reading: reading.taken_at,
)


@given(st.data())
def test_input_order_never_changes_the_alarms(data: st.DataObject) -> None:
    readings = data.draw(readings_strategy)
    shuffled = data.draw(st.permutations(readings))

    assert evaluate_alarms(shuffled, DEFAULTS) == evaluate_alarms(readings, DEFAULTS)


# Issue 14, item 8: a single reading past a critical limit alarms at once; the soft
# limits keep their consecutive-reading rule.
@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ([at(0, spo2_percent=89)], [AlarmCode.SPO2_CRITICAL]),
        ([at(0, respiratory_rate_per_min=7)], [AlarmCode.RESPIRATORY_RATE_CRITICAL]),
        ([at(0, respiratory_rate_per_min=8)], []),
        ([at(0, heart_rate_bpm=44)], [AlarmCode.HEART_RATE_CRITICAL]),
        ([at(0, heart_rate_bpm=45)], []),
        (
            [at(0, systolic_mmhg=89, diastolic_mmhg=50)],
            [AlarmCode.BP_LOW_CRITICAL],
        ),
        ([at(0, systolic_mmhg=95, diastolic_mmhg=60)], []),
        (
            [
                at(0, systolic_mmhg=95, diastolic_mmhg=60),
                at(5, systolic_mmhg=95, diastolic_mmhg=60),
            ],
            [AlarmCode.BP_LOW],
        ),
        ([at(0, etco2_mmhg=5)], [AlarmCode.ETCO2_CRITICAL]),
        ([at(0, etco2_mmhg=55)], []),
        ([at(0, etco2_mmhg=55), at(1, etco2_mmhg=55)], [AlarmCode.ETCO2_HIGH]),
    ],
)
def test_item8_critical_single_readings_alarm_at_once(
    readings: list[TimedVitalSigns], expected: list[AlarmCode]
) -> None:
    found = evaluate_alarms(readings, DEFAULTS)
    assert [a.code for a in found] == expected
    for alarm in found:
        critical = alarm.code in CRITICAL_CODES
        assert (alarm.severity is AlarmSeverity.CRITICAL) == critical


# Issue #14 item 8: the optional ECG rhythm --------------------------------------------


@pytest.mark.parametrize(
    ("rhythm", "other", "fields"),
    [
        ("", "", []),
        (None, None, []),
        ("sinus_rhythm", "", []),
        ("sinus_tachycardia", "", []),
        ("sinus_bradycardia", "", []),
        ("atrial_fibrillation", "", []),
        ("other", "Frequent PVCs", []),
        ("other", "", ["ecg_rhythm_other"]),
        ("other", "   ", ["ecg_rhythm_other"]),
        ("other", "x" * 101, ["ecg_rhythm_other"]),
        ("AF", "", ["ecg_rhythm"]),
        ("ventricular_tachycardia", "", ["ecg_rhythm"]),
        ("sinus_rhythm", "looked fine", ["ecg_rhythm_other"]),
        ("", "Irregular", ["ecg_rhythm"]),
    ],
)
def test_item8_ecg_rhythm_checks(
    rhythm: str | None, other: str | None, fields: list[str]
) -> None:
    assert [e.field for e in vital_rules.check_ecg_rhythm(rhythm, other)] == fields


@pytest.mark.parametrize(
    ("rhythm", "other", "label", "review"),
    [
        (None, None, "", False),
        ("sinus_rhythm", None, "Sinus rhythm", False),
        ("sinus_tachycardia", None, "Sinus tachycardia", True),
        ("atrial_fibrillation", None, "Atrial fibrillation", True),
        ("other", "Frequent PVCs", "Other: Frequent PVCs", True),
    ],
)
def test_item8_ecg_rhythm_label_and_review(
    rhythm: str | None, other: str | None, label: str, review: bool
) -> None:
    assert vital_rules.ecg_rhythm_label(rhythm, other) == label
    assert vital_rules.ecg_needs_review(rhythm) is review


# Issue 17 (hot paths): the monitor feed reads only the newest readings when they
# settle the rules. earlier_readings_matter() says when they do; the property below
# checks the promise against evaluate_alarms itself, every parameter varied across
# its warning and critical limits, the thresholds too.
every_parameter = st.builds(
    at,
    minute=st.integers(min_value=0, max_value=30),
    systolic_mmhg=st.integers(min_value=85, max_value=205),
    diastolic_mmhg=st.integers(min_value=50, max_value=125),
    heart_rate_bpm=st.integers(min_value=43, max_value=125),
    spo2_percent=st.integers(min_value=88, max_value=100),
    respiratory_rate_per_min=st.integers(min_value=7, max_value=16),
    etco2_mmhg=st.one_of(st.none(), st.integers(min_value=5, max_value=55)),
)
some_thresholds = st.builds(
    AlarmThresholds,
    bp_high_consecutive_readings=st.integers(min_value=1, max_value=4),
    bp_high_min_span_minutes=st.integers(min_value=0, max_value=6),
    heart_rate_high_consecutive_readings=st.integers(min_value=1, max_value=4),
    spo2_low_consecutive_readings=st.integers(min_value=1, max_value=3),
    heart_rate_low_min_span_minutes=st.integers(min_value=0, max_value=3),
    etco2_high_mmhg=st.one_of(st.none(), st.just(50)),
)


@given(
    st.lists(every_parameter, max_size=10, unique_by=lambda r: r.taken_at),
    st.integers(min_value=0, max_value=10),
    some_thresholds,
)
def test_earlier_readings_cannot_change_alarms_the_newest_settle(
    readings: list[TimedVitalSigns], keep: int, thresholds: AlarmThresholds
) -> None:
    ordered = sorted(readings, key=lambda reading: reading.taken_at)
    newest = ordered[len(ordered) - min(keep, len(ordered)) :]

    if not vital_rules.earlier_readings_matter(newest, thresholds):
        assert evaluate_alarms(newest, thresholds) == evaluate_alarms(
            ordered, thresholds
        )


@pytest.mark.parametrize(
    ("newest", "matter"),
    [
        ([], True),  # nothing read yet: the earlier readings are all there is
        ([at(0), at(1), at(2)], False),  # within every limit: every run ends here
        ([at(0), at(1, heart_rate_bpm=125)], False),  # the run starts at minute 1
        ([at(0, heart_rate_bpm=125), at(1, heart_rate_bpm=125)], True),
        # A critical reading alone decides its parameter, but the other rules'
        # runs must still end inside the newest readings.
        ([at(0), at(1, spo2_percent=85)], False),
        ([at(0, spo2_percent=91), at(1, spo2_percent=85)], True),
        ([at(0, etco2_mmhg=55), at(1, etco2_mmhg=55)], True),
        ([at(0, etco2_mmhg=45), at(1, etco2_mmhg=55)], False),
    ],
)
def test_earlier_readings_matter_while_a_run_reaches_the_oldest_reading(
    newest: list[TimedVitalSigns], matter: bool
) -> None:
    assert vital_rules.earlier_readings_matter(newest, DEFAULTS) is matter
