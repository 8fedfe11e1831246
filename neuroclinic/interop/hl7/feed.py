"""What an HL7 v2 message from a monitor becomes: readings on the room's running
session through the same `ingest_readings()` as the JSON feed, and an ACK.

AA: stored (or a resend of readings already stored). AE: read, but not stored (no
open session in the device's room, a value missing or out of range). AR: not an
ORU^R01 we can read, or a device we do not know. Every message is kept
(`interop.Hl7Message`) with its outcome and reason.
"""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from neuroclinic.clinics.models import Device
from neuroclinic.infusions.actions import monitoring
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.interop.hl7.oru import OruError, ack, control_id_of, parse_oru
from neuroclinic.interop.models import Hl7Message

MAX_MESSAGE_BYTES = 64 * 1024


def _device(key: str) -> Device | None:
    devices = Device.objects.filter(kind=Device.Kind.MONITOR, is_active=True)
    found = list(devices.filter(serial_number=key)[:2])
    if len(found) != 1:
        try:
            found = list(devices.filter(uuid=UUID(key))[:1])
        except ValueError:  # not a UUID either: no such device
            found = []
    return found[0] if len(found) == 1 else None


def _keep(
    raw: str,
    *,
    control_id: str,
    outcome: str,
    reason: str,
    device_key: str = "",
    session: InfusionSession | None = None,
) -> str:
    now = timezone.now()
    Hl7Message.objects.create(
        received_at=now,
        raw=raw[:MAX_MESSAGE_BYTES],
        control_id=control_id[:50],
        device_key=device_key[:64],
        outcome=outcome,
        reason=reason[:300],
        session=session,
    )
    return ack(control_id, outcome, reason, now=now)


def handle_message(data: bytes) -> str:
    """Store what one message says and return the ACK to send back."""
    raw = data[:MAX_MESSAGE_BYTES].decode("utf-8", errors="replace")
    try:
        oru = parse_oru(raw)
    except OruError as exc:
        return _keep(
            raw,
            control_id=control_id_of(raw),
            outcome="AR" if exc.reject else "AE",
            reason=exc.reason,
        )
    device = _device(oru.device)
    if device is None:
        return _keep(
            raw,
            control_id=oru.control_id,
            outcome="AR",
            reason="Unknown device.",
            device_key=oru.device,
        )
    session = (
        InfusionSession.objects.filter(
            room_id=device.room_id, status__in=InfusionSession.OPEN_STATUSES
        )
        .order_by("-checked_in_at")
        .first()
        if device.room_id is not None
        else None
    )
    if session is None:
        return _keep(
            raw,
            control_id=oru.control_id,
            outcome="AE",
            reason="No open session in the device's room.",
            device_key=oru.device,
        )
    reading: dict[str, object] = {
        "taken_at": oru.taken_at.isoformat(),
        "device": str(device.uuid),
        **{k: v for k, v in oru.values.items() if k != "mean_mmhg"},
    }
    try:
        with transaction.atomic():
            result = monitoring.ingest_readings(
                session, [reading], source=VitalReading.Source.HL7, by=None
            )
    except InfusionError as exc:
        return _keep(
            raw,
            control_id=oru.control_id,
            outcome="AE",
            reason=exc.message,
            device_key=oru.device,
            session=session,
        )
    if result.rejected:
        reasons = "; ".join(
            f"{k}: {' '.join(v)}" for k, v in result.rejected[0].errors.items()
        )
        return _keep(
            raw,
            control_id=oru.control_id,
            outcome="AE",
            reason=reasons,
            device_key=oru.device,
            session=session,
        )
    reason = "Duplicate of a stored reading." if result.duplicates else "Stored."
    return _keep(
        raw,
        control_id=oru.control_id,
        outcome="AA",
        reason=reason,
        device_key=oru.device,
        session=session,
    )
