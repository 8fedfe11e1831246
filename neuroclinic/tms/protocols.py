"""The clinic's default TMS protocols and the arithmetic of a session's pulses.

Sources (ids in docs/sources.md):
- Standard 10 Hz rTMS to the left DLPFC at 120 % of resting motor threshold, 3000
  pulses a session (about 37.5 minutes), 5 sessions a week for 4-6 weeks (T2, T1,
  T10). The train layout (4 s trains, 26 s between trains, 75 trains) is the common
  one but we have not read it in a source [U]; it is a clinic setting.
- iTBS, 600 pulses at 120 % rMT, about 3 minutes (T2, T3); the pattern (triplets at
  50 Hz repeated at 5 Hz, 2 s on and 8 s off) is the common one [U].
- The accelerated protocol (SAINT): iTBS 1800 pulses a session, 10 sessions a day
  with 50 minutes between them, for 5 consecutive days, at 90 % rMT (T4).
- A taper after the acute course (6 sessions over 3 weeks) is practice, not a label
  requirement (T10 [S]); the clinic chooses whether to use it.

Every default here is a starting point the medical director can change in a signed
protocol version; nothing in this module is a prescription.

Pure module: standard library only.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Pattern(StrEnum):
    RTMS_10HZ = "rtms_10hz"
    ITBS = "itbs"


@dataclass(frozen=True)
class ProtocolParameters:
    code: str
    name: str
    pattern: Pattern
    pulses_per_train: int
    train_seconds: Decimal
    inter_train_seconds: Decimal
    trains_per_session: int
    percent_of_mt: Decimal  # the prescribed default, % of resting MT
    max_percent_of_mt: Decimal  # above this a course order is refused
    sessions_per_day: int
    min_interval_minutes: int  # between sessions on the same day (0: one a day)
    treatment_days_per_week: int
    acute_weeks: tuple[int, int]  # the usual range of the acute course
    taper_sessions_by_week: tuple[int, ...] = ()
    # Missed days made up at the end of their phase; beyond this a missed day is dropped [D].
    max_makeup_sessions: int = 5

    @property
    def pulses_per_session(self) -> int:
        return self.pulses_per_train * self.trains_per_session

    @property
    def session_seconds(self) -> Decimal:
        """Stimulation time: trains and the pauses between them (none after the last)."""
        return (
            self.train_seconds * self.trains_per_session
            + self.inter_train_seconds * (self.trains_per_session - 1)
        )

    @property
    def taper_sessions(self) -> int:
        return sum(self.taper_sessions_by_week)

    @property
    def is_accelerated(self) -> bool:
        return self.sessions_per_day > 1


# 10 Hz x 4 s = 40 pulses a train; 75 trains = 3000 pulses (T2); 75 x 4 + 74 x 26 s = 2224 s,
# about 37 minutes (T2 says 37.5 with a pause after the last train).
RTMS_10HZ = ProtocolParameters(
    code="rtms-10hz",
    name="10 Hz rTMS, left DLPFC",
    pattern=Pattern.RTMS_10HZ,
    pulses_per_train=40,
    train_seconds=Decimal(4),
    inter_train_seconds=Decimal(26),
    trains_per_session=75,
    percent_of_mt=Decimal(120),
    max_percent_of_mt=Decimal(120),
    sessions_per_day=1,
    min_interval_minutes=0,
    treatment_days_per_week=5,
    acute_weeks=(4, 6),
    taper_sessions_by_week=(3, 2, 1),
)
# Triplets at 50 Hz repeated at 5 Hz: a 2 s train is 10 bursts x 3 = 30 pulses;
# 20 trains = 600 pulses (T2); 20 x 2 + 19 x 8 s = 192 s, about 3 minutes (T3).
ITBS = ProtocolParameters(
    code="itbs-600",
    name="iTBS 600 pulses, left DLPFC",
    pattern=Pattern.ITBS,
    pulses_per_train=30,
    train_seconds=Decimal(2),
    inter_train_seconds=Decimal(8),
    trains_per_session=20,
    percent_of_mt=Decimal(120),
    max_percent_of_mt=Decimal(120),
    sessions_per_day=1,
    min_interval_minutes=0,
    treatment_days_per_week=5,
    acute_weeks=(4, 6),
)
# 60 trains of 30 = 1800 pulses; 10 a day, 50 minutes apart, 5 days, 90 % rMT (T4).
ACCELERATED_ITBS = ProtocolParameters(
    code="itbs-accelerated",
    name="Accelerated iTBS 1800 pulses, 10 a day for 5 days",
    pattern=Pattern.ITBS,
    pulses_per_train=30,
    train_seconds=Decimal(2),
    inter_train_seconds=Decimal(8),
    trains_per_session=60,
    percent_of_mt=Decimal(90),
    max_percent_of_mt=Decimal(120),
    sessions_per_day=10,
    min_interval_minutes=50,
    treatment_days_per_week=5,
    acute_weeks=(1, 1),
    max_makeup_sessions=0,  # the calendar re-books an accelerated day
)

DEFAULT_PROTOCOLS: dict[str, ProtocolParameters] = {
    p.code: p for p in (RTMS_10HZ, ITBS, ACCELERATED_ITBS)
}


class ProtocolError(ValueError):
    def __init__(self, message: str, *, field: str = "__all__") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def protocol(code: str) -> ProtocolParameters:
    try:
        return DEFAULT_PROTOCOLS[code]
    except KeyError:
        raise ProtocolError(
            "Choose one of the clinic's TMS protocols.", field="protocol"
        ) from None


def pulses_planned(parameters: ProtocolParameters, *, trains: int | None = None) -> int:
    """Pulses planned for one session: every train, or the first `trains` of them."""
    count = parameters.trains_per_session if trains is None else trains
    if not 1 <= count <= parameters.trains_per_session:
        raise ProtocolError(
            f"A session has 1 to {parameters.trains_per_session} trains.",
            field="trains",
        )
    return parameters.pulses_per_train * count


def check_delivered(*, planned: int, delivered: int) -> None:
    """Pulses delivered are counted by the device: never negative, never above the plan."""
    if delivered < 0:
        raise ProtocolError(
            "Pulses delivered cannot be negative.", field="pulses_delivered"
        )
    if delivered > planned:
        raise ProtocolError(
            f"{delivered} pulses delivered is more than the {planned} planned: "
            "check the device's counter.",
            field="pulses_delivered",
        )


def acute_sessions(parameters: ProtocolParameters, *, weeks: int) -> int:
    """Sessions in the acute course: days a week x sessions a day x weeks, within the usual range."""
    low, high = parameters.acute_weeks
    if not low <= weeks <= high:
        raise ProtocolError(
            f"{parameters.name}: the acute course is {low}-{high} week(s).",
            field="weeks",
        )
    return weeks * parameters.treatment_days_per_week * parameters.sessions_per_day


def snapshot(parameters: ProtocolParameters) -> dict[str, object]:
    """The parameters as JSON for the course order (Decimals as strings)."""
    return {
        "code": parameters.code,
        "name": parameters.name,
        "pattern": parameters.pattern.value,
        "pulses_per_train": parameters.pulses_per_train,
        "train_seconds": str(parameters.train_seconds),
        "inter_train_seconds": str(parameters.inter_train_seconds),
        "trains_per_session": parameters.trains_per_session,
        "percent_of_mt": str(parameters.percent_of_mt),
        "max_percent_of_mt": str(parameters.max_percent_of_mt),
        "sessions_per_day": parameters.sessions_per_day,
        "min_interval_minutes": parameters.min_interval_minutes,
        "treatment_days_per_week": parameters.treatment_days_per_week,
        "acute_weeks": list(parameters.acute_weeks),
        "taper_sessions_by_week": list(parameters.taper_sessions_by_week),
        "max_makeup_sessions": parameters.max_makeup_sessions,
    }


def from_snapshot(data: dict[str, Any]) -> ProtocolParameters:
    low, high = data["acute_weeks"]
    return ProtocolParameters(
        code=str(data["code"]),
        name=str(data["name"]),
        pattern=Pattern(data["pattern"]),
        pulses_per_train=int(data["pulses_per_train"]),
        train_seconds=Decimal(data["train_seconds"]),
        inter_train_seconds=Decimal(data["inter_train_seconds"]),
        trains_per_session=int(data["trains_per_session"]),
        percent_of_mt=Decimal(data["percent_of_mt"]),
        max_percent_of_mt=Decimal(data["max_percent_of_mt"]),
        sessions_per_day=int(data["sessions_per_day"]),
        min_interval_minutes=int(data["min_interval_minutes"]),
        treatment_days_per_week=int(data["treatment_days_per_week"]),
        acute_weeks=(int(low), int(high)),
        taper_sessions_by_week=tuple(int(n) for n in data["taper_sessions_by_week"]),
        # Orders placed before the limit was a parameter keep the default.
        max_makeup_sessions=int(
            data.get("max_makeup_sessions", ProtocolParameters.max_makeup_sessions)
        ),
    )


# A clinic's signed versions ------------------------------------------------------

# The outer limits a clinic version must keep [D]. They catch typing slips, not
# prescribe: 120 % MT is the standard (T1, T2) and 150 % the most any label or trial
# we read used; ten sessions a day is SAINT's (T4); a week has seven days.
MAX_PERCENT_OF_MT_CEILING = Decimal(150)
MAX_SESSIONS_PER_DAY = 10
MAX_PULSES_PER_SESSION = 3000 * 2  # twice the longest standard session (T2)


def validate(parameters: ProtocolParameters) -> dict[str, str]:
    """Each setting that is out of range or contradicts another, with why (empty: valid)."""
    errors: dict[str, str] = {}
    if not parameters.name.strip():
        errors["name"] = "Name the protocol."
    if not 1 <= parameters.pulses_per_train <= 1000:
        errors["pulses_per_train"] = "A train is 1-1000 pulses."
    if not 1 <= parameters.trains_per_session <= 500:
        errors["trains_per_session"] = "A session is 1-500 trains."
    elif parameters.pulses_per_session > MAX_PULSES_PER_SESSION:
        errors["trains_per_session"] = (
            f"{parameters.pulses_per_session} pulses a session is more than "
            f"{MAX_PULSES_PER_SESSION}."
        )
    if not Decimal(0) < parameters.train_seconds <= 60:
        errors["train_seconds"] = "A train lasts more than 0 and at most 60 seconds."
    if not Decimal(0) <= parameters.inter_train_seconds <= 600:
        errors["inter_train_seconds"] = "The pause between trains is 0-600 seconds."
    if not Decimal(0) < parameters.max_percent_of_mt <= MAX_PERCENT_OF_MT_CEILING:
        errors["max_percent_of_mt"] = (
            f"The maximum is above 0 and at most {MAX_PERCENT_OF_MT_CEILING} % MT."
        )
    if not Decimal(0) < parameters.percent_of_mt <= parameters.max_percent_of_mt:
        errors["percent_of_mt"] = (
            "The prescribed intensity is above 0 and at most the protocol's maximum "
            f"({parameters.max_percent_of_mt.normalize():f} % MT)."
        )
    if not 1 <= parameters.sessions_per_day <= MAX_SESSIONS_PER_DAY:
        errors["sessions_per_day"] = f"1-{MAX_SESSIONS_PER_DAY} sessions a day."
    elif parameters.sessions_per_day > 1 and parameters.min_interval_minutes < 1:
        errors["min_interval_minutes"] = (
            "More than one session a day needs a minimum interval between them."
        )
    if not 0 <= parameters.min_interval_minutes <= 24 * 60:
        errors["min_interval_minutes"] = "The interval is 0-1440 minutes."
    if not 1 <= parameters.treatment_days_per_week <= 7:
        errors["treatment_days_per_week"] = "1-7 treatment days a week."
    low, high = parameters.acute_weeks
    if not 1 <= low <= high <= 12:
        errors["acute_weeks"] = (
            "The acute course is 1-12 weeks, the shortest first (e.g. 4-6)."
        )
    if len(parameters.taper_sessions_by_week) > 8 or not all(
        1 <= n <= 7 for n in parameters.taper_sessions_by_week
    ):
        errors["taper_sessions_by_week"] = (
            "Up to 8 taper weeks, each 1-7 sessions (e.g. 3, 2, 1)."
        )
    if not 0 <= parameters.max_makeup_sessions <= 20:
        errors["max_makeup_sessions"] = "0-20 make-up sessions."
    return errors
