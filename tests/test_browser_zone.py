"""The browser run's clinic zone: mid-morning whatever hour the suite starts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest

from tests.browser.conftest import mid_morning_zone


@pytest.mark.parametrize("minutes", range(0, 24 * 60, 15))
def test_the_browser_clinic_is_in_its_morning_at_any_hour(minutes: int) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC) + timedelta(minutes=minutes)

    zone = mid_morning_zone(now)

    assert zone in available_timezones()
    local = now.astimezone(ZoneInfo(zone))
    assert 9 * 60 <= local.hour * 60 + local.minute <= 10 * 60
