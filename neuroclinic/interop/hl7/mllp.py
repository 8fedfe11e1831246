"""The MLLP listener: frames are <VT> message <FS><CR>; each gets an ACK frame back.

A connection may carry many messages. Bytes outside a frame are skipped; a frame
cut off by the connection closing (a monitor that reconnects mid-message) is kept
as refused and nothing is stored from it; an over-long frame is refused likewise.
Each message is handled in a worker thread (Django's ORM is synchronous). A database
that refuses for a moment (SQLite's "database is locked" with many monitors at once,
a PostgreSQL deadlock) is tried again a few times; if it still refuses, the monitor
gets an AE saying nothing was stored, so it sends the message again, and the listener
carries on with the next one. A message is never dropped without an answer.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.utils import timezone

from neuroclinic.interop.hl7.feed import MAX_MESSAGE_BYTES, _keep, handle_message
from neuroclinic.interop.hl7.oru import ack, control_id_of

START, END = b"\x0b", b"\x1c\x0d"
logger = logging.getLogger(__name__)


# Waits between tries when the database refuses: about 1.5 s in all.
RETRY_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)
BUSY = "Not stored: the database was busy. Send the message again."


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


def keep_broken(data: bytes, reason: str) -> None:
    _keep(
        data[:2000].decode("utf-8", errors="replace"),
        control_id="",
        outcome="AR",
        reason=reason,
    )


def answer_with_retries(handle: Callable[[bytes], str], body: bytes) -> str:
    """The handler's ACK, trying again while the database refuses for a moment.

    Handling again is safe: readings already stored come back as duplicates (AA).
    """
    for wait_s in (*RETRY_WAITS_S, None):
        try:
            return handle(body)
        except OperationalError:
            if wait_s is None:
                # The reason only: the message holds patient readings.
                logger.error(
                    "HL7 message not stored: the database refused %d times",
                    len(RETRY_WAITS_S) + 1,
                )
                break
            time.sleep(wait_s)
    control_id = control_id_of(
        body[:MAX_MESSAGE_BYTES].decode("utf-8", errors="replace")
    )
    return ack(control_id, "AE", BUSY, now=timezone.now())


async def _serve(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    handle: Callable[[bytes], str],
    broken: Callable[[bytes, str], None],
) -> None:
    buffer = b""
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            buffer += chunk
            while True:
                start = buffer.find(START)
                if start < 0:
                    buffer = b""
                    break
                end = buffer.find(END, start)
                if end < 0:
                    buffer = buffer[start:]
                    if len(buffer) > MAX_MESSAGE_BYTES:
                        await sync_to_async(broken)(buffer[1:], "Message too long.")
                        writer.write(frame(_too_long()))
                        buffer = b""
                    break
                body, buffer = buffer[start + 1 : end], buffer[end + 2 :]
                answer = await sync_to_async(
                    answer_with_retries, thread_sensitive=False
                )(handle, body)
                writer.write(frame(answer))
                await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if buffer.strip(b"\r\n\x1c\x0b"):
            await sync_to_async(broken)(
                buffer[1:], "Connection closed mid-message; nothing stored."
            )
        writer.close()


def _too_long() -> str:
    return ack("", "AR", "Message too long.", now=timezone.now())


async def start_server(
    host: str,
    port: int,
    *,
    handle: Callable[[bytes], str] = handle_message,
    broken: Callable[[bytes, str], None] = keep_broken,
) -> asyncio.Server:
    return await asyncio.start_server(
        functools.partial(_serve, handle=handle, broken=broken), host, port
    )
