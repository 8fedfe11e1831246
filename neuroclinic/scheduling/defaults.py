"""The appointment types a clinic starts with; each is a clinic setting it may change.

Durations: an infusion visit is the 40-minute infusion (K4b [V]: 0.5 mg/kg over 40
minutes) with check-in before and recovery after, two hours in all [D]; a 10 Hz TMS
session takes about 37.5 minutes (T2 [V]), an iTBS session about 3 (T3 [V]), so a
TMS visit is 40 minutes [D]. The rest are the clinic's own choices [D].

Pure module: standard library only.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TypeDefaults:
    code: str
    name: str
    duration_minutes: int
    turnover_minutes: int
    room_kind: str
    device_kinds: tuple[str, ...]
    staff_role: str


DEFAULT_TYPES = (
    TypeDefaults("consult", "Consult", 60, 10, "consult", (), "prescriber"),
    TypeDefaults("intake_visit", "Intake visit", 60, 10, "consult", (), "nurse"),
    TypeDefaults(
        "infusion",
        "Infusion",
        120,
        15,
        "infusion",
        ("infusion_pump", "monitor"),
        "nurse",
    ),
    TypeDefaults(
        "booster",
        "Booster infusion",
        120,
        15,
        "infusion",
        ("infusion_pump", "monitor"),
        "nurse",
    ),
    TypeDefaults(
        "tms_session", "TMS session", 40, 10, "tms", ("tms_unit",), "tms_technician"
    ),
    TypeDefaults(
        "motor_threshold", "Motor threshold", 60, 10, "tms", ("tms_unit",), "prescriber"
    ),
    TypeDefaults("follow_up", "Follow-up", 30, 5, "consult", (), "prescriber"),
    TypeDefaults("phone_check_in", "Phone check-in", 15, 0, "", (), "nurse"),
)
