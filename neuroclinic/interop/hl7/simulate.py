"""A synthetic bedside monitor: realistic ORU^R01 vital-sign messages sent over MLLP.

For tests, the demo (`neuroclinic hl7_simulate`, docs/hl7.md) and benchmarks/hl7.py.
Each monitor keeps its own connection and sends one message at a time, waiting for the
ACK before the next, as monitors do; a connection that drops is opened again and the
unacknowledged message sent again (the listener answers a resend of a stored reading
with AA "Duplicate"). Values wander the way an awake adult's do during a ketamine
infusion (blood pressure and heart rate drift up a little, then settle), inside
ranges that raise no alarm; they are invented, not a model of any patient.

Pure module apart from the socket: no Django.
"""

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

START, END = b"\x0b", b"\x1c\x0d"

# Our field -> (OBX-3 as MDC code^reference id^MDC, unit as UCUM), in the order a
# monitor sends them. The ECG heart rate comes first and wins over the pulse rate.
OBX_CODES: tuple[tuple[str, str, str], ...] = (
    ("heart_rate_bpm", "147842^MDC_ECG_HEART_RATE^MDC", "/min"),
    ("pulse_rate_bpm", "149530^MDC_PULS_OXIM_PULS_RATE^MDC", "/min"),
    ("systolic_mmhg", "150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "mm[Hg]"),
    ("diastolic_mmhg", "150022^MDC_PRESS_BLD_NONINV_DIA^MDC", "mm[Hg]"),
    ("mean_mmhg", "150023^MDC_PRESS_BLD_NONINV_MEAN^MDC", "mm[Hg]"),
    ("spo2_percent", "150456^MDC_PULS_OXIM_SAT_O2^MDC", "%"),
    ("respiratory_rate_per_min", "151562^MDC_RESP_RATE^MDC", "/min"),
    ("etco2_mmhg", "151708^MDC_AWAY_CO2_ET^MDC", "mm[Hg]"),
)

# (start, low, high, step): a bounded random walk drawn back towards the start.
_WALK: dict[str, tuple[float, float, float, float]] = {
    "heart_rate_bpm": (76, 58, 104, 2.0),
    "systolic_mmhg": (124, 104, 150, 2.5),
    "diastolic_mmhg": (78, 62, 94, 1.5),
    "spo2_percent": (98, 94, 100, 0.6),
    "respiratory_rate_per_min": (14, 10, 20, 0.8),
    "etco2_mmhg": (38, 33, 44, 0.8),
}


@dataclass
class Monitor:
    """One synthetic monitor: its identifier (OBX-18) and where its values are."""

    device: str
    seed: int = 7
    sent: int = 0
    values: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Invented values, repeatable by seed: not for anything secret.
        self._rng = random.Random(f"{self.seed}:{self.device}")  # noqa: S311
        self.values = {name: start for name, (start, *_) in _WALK.items()}

    def step(self) -> dict[str, int]:
        """The next reading: every value moved a little, kept inside its range."""
        for name, (start, low, high, size) in _WALK.items():
            moved = (
                self.values[name]
                + self._rng.gauss(0, size)
                + (start - self.values[name]) * 0.1
            )
            self.values[name] = min(high, max(low, moved))
        reading = {name: round(v) for name, v in self.values.items()}
        reading["diastolic_mmhg"] = min(
            reading["diastolic_mmhg"], reading["systolic_mmhg"] - 25
        )
        reading["mean_mmhg"] = round(
            (reading["systolic_mmhg"] + 2 * reading["diastolic_mmhg"]) / 3
        )
        reading["pulse_rate_bpm"] = reading["heart_rate_bpm"] + self._rng.choice(
            (-1, 0, 0, 1)
        )
        return reading

    def message(self, at: datetime, reading: dict[str, int]) -> str:
        """An ORU^R01 (HL7 v2.5) carrying `reading`, observed at `at`."""
        self.sent += 1
        stamp = hl7_stamp(at)
        control = f"{self.device[:20]}-{self.sent:08d}"
        segments = [
            f"MSH|^~\\&|SIMMONITOR|{self.device[:20]}|NEUROCLINIC|CLINIC|{stamp}||"
            f"ORU^R01^ORU_R01|{control}|P|2.5",
            f"OBR|1|||VITALS^Vital signs^L|||{stamp}",
        ]
        for n, (name, code, unit) in enumerate(OBX_CODES, start=1):
            segments.append(
                f"OBX|{n}|NM|{code}||{reading[name]}|{unit}^^UCUM|||||F|||{stamp}"
                f"||||{self.device}"
            )
        return "\r".join(segments) + "\r"


def hl7_stamp(at: datetime) -> str:
    """YYYYMMDDHHMMSS.FFFF in UTC (HL7 DTM, ten-thousandths of a second): two
    messages from one monitor a millisecond apart still carry different times."""
    at = at.astimezone(UTC)
    return at.strftime("%Y%m%d%H%M%S") + f".{at.microsecond // 100:04d}+0000"


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


def ack_code(answer: bytes) -> str:
    """MSA-1 of an ACK (AA, AE, AR), or "?" if there is none."""
    for segment in answer.decode("utf-8", errors="replace").split("\r"):
        if segment.startswith("MSA|"):
            return segment.split("|")[1][:2]
    return "?"


class SimulatorError(Exception):
    pass


@dataclass
class Result:
    sent: int = 0
    acks: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    seconds: float = 0.0
    # Seconds from sending each message to its ACK.
    latencies: list[float] = field(default_factory=list)
    # The last reading each monitor sent and had answered AA.
    last_stored: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def _exchange(sock: socket.socket, data: bytes, timeout: float) -> bytes:
    sock.sendall(data)
    buffer = b""
    deadline = time.monotonic() + timeout
    while END not in buffer:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("The listener closed the connection.")
        buffer += chunk
    return buffer[buffer.find(START) + 1 : buffer.find(END)]


def run_monitor(
    monitor: Monitor,
    host: str,
    port: int,
    *,
    count: int,
    rate: float,
    result: Result,
    lock: threading.Lock,
    stop: threading.Event,
    timeout: float = 10.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Send `count` messages (0: until `stop`) at `rate` a second (0: as fast as the
    ACKs come back) over one connection, reconnecting once per failure."""
    interval = 1 / rate if rate > 0 else 0.0
    sock: socket.socket | None = None
    n = 0
    next_at = time.monotonic()
    try:
        while (count == 0 or n < count) and not stop.is_set():
            if interval:
                wait = next_at - time.monotonic()
                if wait > 0 and stop.wait(wait):
                    break
                next_at += interval
            reading = monitor.step()
            data = frame(monitor.message(clock(), reading))
            for attempt in (1, 2):
                try:
                    if sock is None:
                        sock = socket.create_connection((host, port), timeout=timeout)
                    sent_at = time.perf_counter()
                    answer = _exchange(sock, data, timeout)
                    took = time.perf_counter() - sent_at
                    break
                except OSError as exc:
                    if sock is not None:
                        sock.close()
                        sock = None
                    if attempt == 2:
                        raise SimulatorError(
                            f"{monitor.device}: cannot reach {host}:{port} ({exc})."
                        ) from None
                    with lock:
                        result.reconnects += 1
            code = ack_code(answer)
            n += 1
            with lock:
                result.sent += 1
                result.acks[code] += 1
                result.latencies.append(took)
                if code == "AA":
                    result.last_stored[monitor.device] = reading
    finally:
        if sock is not None:
            sock.close()


def simulate(
    host: str,
    port: int,
    devices: list[str],
    *,
    count: int = 10,
    rate: float = 1.0,
    seed: int = 7,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Result:
    """Every monitor in its own thread, `count` messages each at `rate` a second each.
    Raises SimulatorError if a monitor cannot reach the listener."""
    result = Result()
    lock = threading.Lock()
    stop = stop or threading.Event()
    errors: list[SimulatorError] = []

    def one(device: str) -> None:
        try:
            run_monitor(
                Monitor(device, seed=seed),
                host,
                port,
                count=count,
                rate=rate,
                result=result,
                lock=lock,
                stop=stop,
                clock=clock,
            )
        except SimulatorError as exc:
            errors.append(exc)
            stop.set()

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(d,), daemon=True) for d in devices]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
    result.seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return result
