"""The MLLP listener: frames are <VT> message <FS><CR>; each gets an ACK frame back.

A connection may carry many messages. Bytes outside a frame are skipped; a frame
cut off by the connection closing (a monitor that reconnects mid-message) is kept
as refused and nothing is stored from it; an over-long frame is refused likewise.
Each message is handled in a worker thread (Django's ORM is synchronous).
"""

import asyncio
import functools
import logging
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.utils import timezone

from neuroclinic.interop.hl7.feed import MAX_MESSAGE_BYTES, _keep, handle_message

START, END = b"\x0b", b"\x1c\x0d"
logger = logging.getLogger(__name__)


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


def keep_broken(data: bytes, reason: str) -> None:
    _keep(
        data[:2000].decode("utf-8", errors="replace"),
        control_id="",
        outcome="AR",
        reason=reason,
    )


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
                answer = await sync_to_async(handle, thread_sensitive=False)(body)
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
    from neuroclinic.interop.hl7.oru import ack

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
