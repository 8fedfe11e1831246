"""HL7 v2 ORU^R01 from monitors: parsing, ACKs, the running session's readings, and
the MLLP listener over a real socket."""

import asyncio
import io
import queue
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import login
from neuroclinic.clinics.models import Device
from neuroclinic.infusions.models import InfusionSession, VitalReading
from neuroclinic.interop.hl7.feed import handle_message
from neuroclinic.interop.hl7.mllp import (
    END,
    START,
    answer_with_retries,
    frame,
    start_server,
)
from neuroclinic.interop.hl7.oru import CODES, OruError, hl7_time, parse_oru
from neuroclinic.interop.hl7.simulate import Monitor
from neuroclinic.interop.models import Hl7Message


def oru(
    device: str = "MON-1",
    at: datetime | None = None,
    control: str = "MSG1",
    **values: str,
) -> str:
    when = (
        (at or timezone.now() - timedelta(seconds=5))
        .astimezone(UTC)
        .strftime("%Y%m%d%H%M%S")
    )
    codes = {
        "hr": ("147842^MDC_ECG_HEART_RATE^MDC", "72", "/min"),
        "sys": ("150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "124", "mm[Hg]"),
        "dia": ("8462-4^Diastolic blood pressure^LN", "80", "mm[Hg]"),
        "map": ("150023^MDC_PRESS_BLD_NONINV_MEAN^MDC", "95", "mm[Hg]"),
        "spo2": ("150456^MDC_PULS_OXIM_SAT_O2^MDC", "98", "%"),
        "rr": ("9279-1^Respiratory rate^LN", "14", "/min"),
        "etco2": ("151708^MDC_AWAY_CO2_ET^MDC", "38", "mm[Hg]"),
    }
    segments = [
        f"MSH|^~\\&|MONITOR|ROOM1|NEUROCLINIC|CLINIC|{when}||ORU^R01^ORU_R01|{control}|P|2.5",
        "PID|1||TEST^^^MON",
        f"OBR|1|||VITALS|||{when}",
    ]
    for n, (key, (code, value, unit)) in enumerate(codes.items(), start=1):
        value = values.get(key, value)
        if value == "omit":
            continue
        segments.append(f"OBX|{n}|NM|{code}||{value}|{unit}|||||F|||{when}||||{device}")
    return "\r".join(segments)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20260105093000", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("202601050930", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        (
            "20260105093000.123-0500",
            datetime(2026, 1, 5, 14, 30, 0, 123000, tzinfo=UTC),
        ),
        ("20260105093000.0001", datetime(2026, 1, 5, 9, 30, 0, 100, tzinfo=UTC)),
        ("20260105093000.12a", None),
        ("202601050930.5", None),
        ("20260105093000+0100", datetime(2026, 1, 5, 8, 30, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("", None),
        ("yesterday", None),
        ("20261305093000", None),
        ("20260105093000+5", None),
    ],
)
def test_hl7_times(text: str, expected: datetime | None) -> None:
    assert hl7_time(text) == expected


def test_parse_maps_mdc_and_loinc() -> None:
    parsed = parse_oru(oru())
    assert parsed.device == "MON-1"
    assert parsed.values == {
        "heart_rate_bpm": 72,
        "systolic_mmhg": 124,
        "diastolic_mmhg": 80,
        "mean_mmhg": 95,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
        "etco2_mmhg": 38,
    }


@pytest.mark.parametrize(
    ("raw", "reject"),
    [
        ("", True),
        ("PID|1", True),
        ("MSH|^~\\&|A|B|C|D|20260105||ADT^A01|1|P|2.5", True),
        ("MSH|^~\\&|A|B|C|D|20260105||ORU^R01||P|2.5", True),
        ("MSH|^~\\&|A|B|C|D|20260105||ORU^R01|1|P|2.5", False),
        (oru(hr="fast"), False),
        (oru().replace("|MON-1", "|").replace("MONITOR|", "|"), True),
    ],
)
def test_unreadable_messages(raw: str, reject: bool) -> None:
    with pytest.raises(OruError) as caught:
        parse_oru(raw)
    assert caught.value.reject is reject


@pytest.fixture
def live(running: InfusionSession, monitor: Device) -> InfusionSession:
    return running


def test_a_message_feeds_the_running_session(live: InfusionSession) -> None:
    answer = handle_message(oru().encode())
    assert "MSA|AA|MSG1" in answer
    reading = VitalReading.objects.get(session=live, source=VitalReading.Source.HL7)
    assert (reading.systolic_mmhg, reading.etco2_mmhg) == (124, 38)
    again = handle_message(oru(control="MSG2", at=reading.taken_at).encode())
    assert "MSA|AA|MSG2|Duplicate" in again
    assert VitalReading.objects.filter(source=VitalReading.Source.HL7).count() == 1
    assert Hl7Message.objects.filter(outcome="AA").count() == 2


@pytest.mark.parametrize(
    ("message", "code", "reason"),
    [
        (lambda: oru(device="MON-404"), "AR", "Unknown device"),
        (lambda: oru(spo2="omit"), "AE", "spo2_percent"),
        (lambda: oru(sys="400"), "AE", "systolic"),
        (lambda: oru(at=timezone.now() + timedelta(hours=2)), "AE", "taken_at"),
        (lambda: "garbage", "AR", "MSH"),
        (lambda: "MSH|^~\\&|A|B|C|D|20260105||ADT^A01|X9|P|2.5", "AR", "ORU^R01"),
    ],
)
def test_refused_messages_are_kept_with_the_reason(
    live: InfusionSession, message: Any, code: str, reason: str
) -> None:
    answer = handle_message(message().encode())
    assert f"MSA|{code}|" in answer
    kept = Hl7Message.objects.get()
    assert kept.outcome == code
    assert reason.lower() in kept.reason.lower()
    assert not VitalReading.objects.filter(source=VitalReading.Source.HL7).exists()


def test_no_open_session_in_the_room(monitor: Device, db: None) -> None:
    answer = handle_message(oru().encode())
    assert "MSA|AE|MSG1|No open session" in answer


def test_the_listener_frames_messages_over_a_socket() -> None:
    """Framing only (the handler is a stand-in): noise skipped, one ACK per frame, a
    frame cut off by the connection closing is handed to `broken`, not to `handle`."""
    handled: list[bytes] = []
    broken: list[tuple[bytes, str]] = []

    def handle(data: bytes) -> str:
        handled.append(data)
        return f"ACK {len(handled)}"

    async def talk() -> list[bytes]:
        server = await start_server(
            "127.0.0.1", 0, handle=handle, broken=lambda d, r: broken.append((d, r))
        )
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"noise" + frame(oru(control="S1")) + frame("second")[:4])
        await writer.drain()
        first = await reader.readuntil(END)
        writer.write(frame("second")[4:])
        await writer.drain()
        second = await reader.readuntil(END)
        writer.write(START + b"MSH|cut off")  # then the monitor drops
        await writer.drain()
        writer.close()
        await asyncio.sleep(0.3)
        server.close()
        await server.wait_closed()
        return [first, second]

    answers = asyncio.run(talk())
    assert answers == [frame("ACK 1"), frame("ACK 2")]
    assert handled[1] == b"second"
    assert handled[0].startswith(b"MSH|")
    assert broken == [
        (b"MSH|cut off", "Connection closed mid-message; nothing stored.")
    ]


def test_a_busy_database_is_tried_again_and_then_answered_ae_never_dropped() -> None:
    """SQLite refused 'database is locked' with ten monitors at once (benchmarks/hl7.py):
    the message was lost with no ACK. Now a refusal is tried again; one that lasts is
    answered AE (the monitor resends) and the connection serves the next message."""
    calls: list[bytes] = []

    def locked_twice(data: bytes) -> str:
        calls.append(data)
        if len(calls) <= 2:
            raise OperationalError("database is locked")
        return "stored"

    def always_locked(data: bytes) -> str:
        raise OperationalError("database is locked")

    assert answer_with_retries(locked_twice, b"MSH|") == "stored"
    assert len(calls) == 3

    async def talk() -> list[bytes]:
        server = await start_server("127.0.0.1", 0, handle=always_locked)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        for control in ("B1", "B2"):
            writer.write(frame(oru(control=control)))
            await writer.drain()
            answers.append(await reader.readuntil(END))
        writer.close()
        server.close()
        await server.wait_closed()
        return answers

    first, second = asyncio.run(talk())
    assert b"MSA|AE|B1|Not stored: the database was busy" in first
    assert b"MSA|AE|B2|" in second


# The simulator ----------------------------------------------------------------


def test_the_simulated_monitor_sends_readable_readings() -> None:
    """Pure: every simulated message parses, carries every reading we keep, stays
    inside the ranges the readings are validated against, and moves over time."""
    monitor = Monitor("MON-9", seed=3)
    start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    seen = []
    for n in range(200):
        reading = monitor.step()
        parsed = parse_oru(monitor.message(start + timedelta(milliseconds=n), reading))
        assert parsed.device == "MON-9"
        assert parsed.control_id == f"MON-9-{n + 1:08d}"
        assert parsed.taken_at == start + timedelta(milliseconds=n)
        assert parsed.values["heart_rate_bpm"] == reading["heart_rate_bpm"]
        assert 58 <= parsed.values["heart_rate_bpm"] <= 104
        assert 94 <= parsed.values["spo2_percent"] <= 100
        assert (
            parsed.values["diastolic_mmhg"] + 25
            <= parsed.values["systolic_mmhg"]
            <= 150
        )
        assert set(parsed.values) == set(CODES)
        seen.append(parsed.values["systolic_mmhg"])
    assert len(set(seen)) > 5


def test_the_simulator_reports_an_unreachable_listener() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(CommandError, match="cannot reach"):
        call_command(
            "hl7_simulate", "--port", str(port), "--monitor", "M", "--count", "1"
        )


Call = tuple[bytes, "queue.Queue[str]"]


@pytest.fixture
def listener() -> Iterator[tuple[int, "queue.Queue[Call]"]]:
    """The real MLLP listener (`neuroclinic mllp`'s server) on a free port, in a
    thread with its own event loop. Each message it frames is handed to the test's
    thread, which runs the real handler on the test's database connection (so the
    test's fixtures are visible to it) and hands the ACK back."""
    calls: queue.Queue[Call] = queue.Queue()

    def handle(data: bytes) -> str:
        answer: queue.Queue[str] = queue.Queue(maxsize=1)
        calls.put((data, answer))
        return answer.get(timeout=60)

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(start_server("127.0.0.1", 0, handle=handle))
        holder["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield holder["port"], calls
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_the_simulator_streams_to_a_running_session_and_the_board_shows_it(
    running: InfusionSession,
    monitor: Device,
    listener: tuple[int, "queue.Queue[Call]"],
    client: Client,
    nurse: Any,
) -> None:
    """`neuroclinic hl7_simulate` -> MLLP over a socket -> the listener -> the real
    handler (ingest_readings) -> the nurse-station board's rooms fragment (what the
    board page polls), read as the nurse."""
    port, calls = listener
    out = io.StringIO()
    sender = threading.Thread(
        target=call_command,
        args=("hl7_simulate", "--port", str(port), "--monitor", monitor.serial_number),
        kwargs={"rate": 0, "count": 6, "stdout": out},
    )
    sender.start()
    while sender.is_alive() or not calls.empty():
        try:
            data, answer = calls.get(timeout=0.1)
        except queue.Empty:
            continue
        answer.put(handle_message(data))
    sender.join()
    assert "Sent 6 message(s)" in out.getvalue()
    assert "6 AA" in out.getvalue()
    stored = list(
        VitalReading.objects.filter(
            session=running, source=VitalReading.Source.HL7
        ).order_by("taken_at")
    )
    assert len(stored) == 6
    assert Hl7Message.objects.filter(outcome="AA", session=running).count() == 6
    # The same seed gives the same readings: the last one sent is the board's latest.
    again = Monitor(monitor.serial_number, seed=7)
    for _ in range(6):
        last = again.step()
    latest = stored[-1]
    assert (latest.systolic_mmhg, latest.heart_rate_bpm) == (
        last["systolic_mmhg"],
        last["heart_rate_bpm"],
    )
    login(client, nurse)
    page = client.get(
        reverse("infusions:board_rooms", args=[running.room.location.uuid])
    )
    assert page.status_code == 200
    html = page.content.decode()
    card = html[html.index(running.room.name) :]
    assert f"{last['systolic_mmhg']}/{last['diastolic_mmhg']}" in card
    assert f"<dd>{last['heart_rate_bpm']}</dd>" in card
    assert f"<dd>{last['spo2_percent']}</dd>" in card
    shown = latest.taken_at.astimezone(ZoneInfo(running.room.location.time_zone))
    assert f"Last reading {shown:%H:%M:%S}" in card
