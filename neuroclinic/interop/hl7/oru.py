"""Reading an HL7 v2 ORU^R01 from a bedside monitor, and writing its ACK.

OBX-3 codes are matched as LOINC (system LN) or IEEE 11073 MDC (system MDC, by
numeric code or reference id). The device is OBX-18 (equipment instance
identifier) of the first OBX that has one, else MSH-3 (sending application).
The time is OBX-14, else OBR-7, else MSH-7. docs/hl7.md has the profile.

Pure module: standard library and python-hl7's parser.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import hl7  # type: ignore[import-untyped]

# Our field -> the OBX-3 codes that carry it (LOINC and MDC code / reference id).
CODES: dict[str, frozenset[str]] = {
    "heart_rate_bpm": frozenset(
        {"8867-4", "147842", "MDC_ECG_HEART_RATE", "149530", "MDC_PULS_OXIM_PULS_RATE"}
    ),
    "systolic_mmhg": frozenset({"8480-6", "150021", "MDC_PRESS_BLD_NONINV_SYS"}),
    "diastolic_mmhg": frozenset({"8462-4", "150022", "MDC_PRESS_BLD_NONINV_DIA"}),
    "mean_mmhg": frozenset({"8478-0", "150023", "MDC_PRESS_BLD_NONINV_MEAN"}),
    "spo2_percent": frozenset({"59408-5", "2708-6", "150456", "MDC_PULS_OXIM_SAT_O2"}),
    "respiratory_rate_per_min": frozenset({"9279-1", "151562", "MDC_RESP_RATE"}),
    "etco2_mmhg": frozenset({"19891-1", "151708", "MDC_AWAY_CO2_ET"}),
}
_BY_CODE = {code: name for name, codes in CODES.items() for code in codes}


class OruError(ValueError):
    """The message cannot be read; `reject` says whether to answer AR (not AE)."""

    def __init__(self, reason: str, *, reject: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reject = reject


@dataclass
class Oru:
    control_id: str
    sending_application: str
    sending_facility: str
    device: str
    taken_at: datetime
    values: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _field(segment: Any, index: int) -> str:
    try:
        return str(segment[index]).strip()
    except IndexError:
        return ""


def _component(segment: Any, index: int, component: int) -> str:
    """One component of a field's first repetition (`^` and `~` are the MSH-2 defaults)."""
    parts = _field(segment, index).split("~", 1)[0].split("^")
    return parts[component].strip() if component < len(parts) else ""


def hl7_time(text: str) -> datetime | None:
    """YYYYMMDDHHMM[SS[.S+]][+/-ZZZZ]; no zone means UTC. The fraction of a second
    is kept (a monitor sending more than once a second sends distinct times)."""
    if not text:
        return None
    body, zone = text, ""
    for sign in ("+", "-"):
        if sign in text[8:]:
            at = text.rindex(sign)
            body, zone = text[:at], text[at:]
    body, _, fraction = body.partition(".")
    if fraction and not (fraction.isdigit() and len(body) == 14):
        return None  # a fraction only after whole seconds, digits only
    try:
        filled = body[:14] + "20000101000000"[len(body[:14]) :]
        moment = datetime.strptime(filled, "%Y%m%d%H%M%S")  # noqa: DTZ007 - zone below
    except ValueError:
        return None
    if fraction:  # HL7 DTM allows up to four digits; more are cut to microseconds
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    tz = UTC
    if zone:
        if len(zone) != 5 or not zone[1:].isdigit():
            return None
        minutes = int(zone[1:3]) * 60 + int(zone[3:])
        tz = timezone(timedelta(minutes=minutes if zone[0] == "+" else -minutes))
    return moment.replace(tzinfo=tz)


def parse_oru(raw: str) -> Oru:
    text = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    if not text.startswith("MSH"):
        raise OruError("The message does not start with an MSH segment.")
    try:
        message = hl7.parse(text)
        msh = message.segment("MSH")
    except (hl7.ParseException, KeyError, IndexError, ValueError):
        raise OruError("The message is not HL7 v2.") from None
    message_type = _component(msh, 9, 0), _component(msh, 9, 1)
    control_id = _field(msh, 10)
    if not control_id:
        raise OruError("MSH-10 (message control id) is empty.")
    if message_type != ("ORU", "R01"):
        raise OruError(f"Only ORU^R01 is taken, not {'^'.join(message_type)[:20]}.")
    obxs = [s for s in message if str(s[0]) == "OBX"]
    if not obxs:
        raise OruError("The message has no OBX segment.", reject=False)
    obr_time = next(
        (hl7_time(_field(s, 7)) for s in message if str(s[0]) == "OBR"), None
    )
    oru = Oru(
        control_id=control_id[:50],
        sending_application=_field(msh, 3)[:60],
        sending_facility=_field(msh, 4)[:60],
        device="",
        taken_at=obr_time
        or hl7_time(_field(msh, 7))
        or datetime.min.replace(tzinfo=UTC),
    )
    times: list[datetime] = []
    for obx in obxs:
        device = _component(obx, 18, 0)
        if device and not oru.device:
            oru.device = device[:64]
        code, ref = _component(obx, 3, 0), _component(obx, 3, 1)
        name = _BY_CODE.get(code) or _BY_CODE.get(ref)
        if name is None:
            oru.ignored.append(code or ref)
            continue
        status = _field(obx, 11)
        if status and status not in ("F", "C", "R"):
            continue  # preliminary or cancelled results are not readings
        value = _field(obx, 5)
        try:
            number = float(value)
        except ValueError:
            raise OruError(
                f"OBX {code or ref}: {value[:20]!r} is not a number.", reject=False
            ) from None
        if name == "heart_rate_bpm" and name in oru.values:
            continue  # the ECG rate, when both are sent, wins (it comes first by convention)
        oru.values[name] = round(number)
        if moment := hl7_time(_field(obx, 14)):
            times.append(moment)
    if times:
        oru.taken_at = max(times)
    if oru.taken_at.year == 1:
        raise OruError("No observation time (OBX-14, OBR-7 or MSH-7).", reject=False)
    if not oru.device:
        oru.device = oru.sending_application
    if not oru.device:
        raise OruError("No device identifier (OBX-18 or MSH-3).")
    return oru


def ack(raw_control_id: str, code: str, text: str, *, now: datetime) -> str:
    """An HL7 v2.5 ACK: AA accepted, AE error (resend will not help as is), AR rejected."""
    safe = "".join(c for c in text if c not in "|^~\\&\r\n")[:80]
    control = "".join(c for c in raw_control_id if c not in "|^~\\&\r\n")[:50]
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    return (
        f"MSH|^~\\&|NEUROCLINIC|CLINIC|||{stamp}||ACK^R01^ACK|ACK{stamp}{control[:20]}|P|2.5\r"
        f"MSA|{code}|{control}|{safe}\r"
    )


def control_id_of(raw: str) -> str:
    """MSH-10 read without parsing, for the ACK of a message that does not parse."""
    first = raw.replace("\n", "\r").split("\r", 1)[0]
    parts = first.split("|")
    return parts[9] if first.startswith("MSH") and len(parts) > 9 else ""
