"""The browser run's clinic zone: mid-morning whatever hour the suite starts, in a real place.

A pure function of the moment (tests/browser/conftest.py): no browser, no database.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest

from tests.browser.conftest import MORNING_ZONES, mid_morning_zone

ZONES = available_timezones()
# A winter day, a summer day (northern), and the days US summer time starts and ends.
DAYS = (
    datetime(2026, 1, 15, tzinfo=UTC),
    datetime(2026, 7, 15, tzinfo=UTC),
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 12, 7, tzinfo=UTC),
)


@pytest.mark.parametrize("day", DAYS, ids=lambda d: d.date().isoformat())
def test_the_browser_clinic_is_in_its_morning_at_every_minute_of_the_day(
    day: datetime,
) -> None:
    for minutes in range(0, 24 * 60, 5):
        now = day + timedelta(minutes=minutes)

        zone = mid_morning_zone(now)

        local = now.astimezone(ZoneInfo(zone))
        at = f"{now:%Y-%m-%d %H:%M} UTC -> {zone} {local:%H:%M}"
        assert 9 * 60 <= local.hour * 60 + local.minute <= 10 * 60, at
        # A city the staff pages can name, not a fixed offset ("Times are -01").
        assert zone in ZONES, at
        assert not zone.startswith("Etc/"), at
        assert "/" in zone, at


def test_every_listed_zone_is_a_real_place() -> None:
    assert len(set(MORNING_ZONES)) == len(MORNING_ZONES)
    for zone in MORNING_ZONES:
        assert zone in ZONES, zone
        assert not zone.startswith("Etc/"), zone


def test_a_zone_with_summer_time_counts_with_the_offset_it_has_that_day() -> None:
    # 14:30 UTC is 09:30 in New York in January (EST) but in Chicago in July (CDT).
    assert mid_morning_zone(datetime(2026, 1, 15, 14, 30, tzinfo=UTC)) == (
        "America/New_York"
    )
    assert mid_morning_zone(datetime(2026, 7, 15, 14, 30, tzinfo=UTC)) == (
        "America/Chicago"
    )


def test_a_us_zone_is_chosen_when_one_is_in_its_morning() -> None:
    # 17:30 UTC in December: 09:30 in Los Angeles, and in Pitcairn; the US zone comes first.
    assert mid_morning_zone(datetime(2026, 12, 7, 17, 30, tzinfo=UTC)) == (
        "America/Los_Angeles"
    )
