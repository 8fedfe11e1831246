"""Encrypting a backup as a stream: scrypt from the passphrase, then AES-256-GCM in chunks.

File layout (all integers big-endian):

    b"NCBK1\\n"                 magic and format version
    uint32 header length, then the header: JSON with the KDF's salt and cost,
                                the cipher, the chunk size and a random nonce prefix
    chunks: AES-256-GCM(plaintext chunk) + 16-byte tag, each `chunk_bytes` of
            plaintext except the last (0..chunk_bytes)

Each chunk's nonce is the 7-byte random prefix, a 4-byte chunk counter and one
byte that is 1 only on the last chunk (the STREAM construction of Hoang,
Reyhanitabar, Rogaway and Vizar, as used by age and Tink); the header is the
associated data of every chunk. So a changed header, a reordered, dropped or
altered chunk, and a file cut short at any point all fail authentication, and
a wrong passphrase fails on the first chunk. Memory stays at one chunk,
whatever the size of the backup.

The key is derived with scrypt (RFC 7914) at N=2^17, r=8, p=1 (128 MiB, about
half a second): what OWASP's password storage guidance names for scrypt.
"""

import json
import os
import struct
from typing import IO, Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"NCBK1\n"
TAG_BYTES = 16
CHUNK_BYTES = 1024 * 1024
MAX_CHUNKS = 2**32
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1


class BackupDecryptError(Exception):
    """Wrong passphrase, or the file is not a whole, unaltered Neuroclinic backup."""


def derive_key(passphrase: str, *, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not passphrase:
        raise ValueError("BACKUP_KEY is empty: set it to a long passphrase")
    kdf = Scrypt(salt=salt, length=32, n=n, r=r, p=p)
    return kdf.derive(passphrase.encode())


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= MAX_CHUNKS:
        raise OverflowError("backup too large for one key (4 PiB at 1 MiB chunks)")
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


class EncryptingWriter:
    """A write-only binary file object: what is written is encrypted into `sink`."""

    def __init__(
        self,
        sink: BinaryIO,
        passphrase: str,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        scrypt_n: int = SCRYPT_N,
    ) -> None:
        salt = os.urandom(16)
        self._prefix = os.urandom(7)
        header: dict[str, Any] = {
            "kdf": "scrypt",
            "salt": salt.hex(),
            "n": scrypt_n,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "cipher": "AES-256-GCM-STREAM",
            "chunk_bytes": chunk_bytes,
            "nonce_prefix": self._prefix.hex(),
        }
        self._header = json.dumps(header, sort_keys=True).encode()
        key = derive_key(passphrase, salt=salt, n=scrypt_n, r=SCRYPT_R, p=SCRYPT_P)
        self._aead = AESGCM(key)
        self._sink = sink
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        self.bytes_written = 0
        self._emit(MAGIC + struct.pack(">I", len(self._header)) + self._header)

    def _emit(self, data: bytes) -> None:
        self._sink.write(data)
        self.bytes_written += len(data)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        self._emit(self._aead.encrypt(nonce, chunk, self._header))
        self._counter += 1

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write to a closed backup stream")
        self._buffer += data
        # Keep at least one byte back: only close() may seal the last chunk.
        while len(self._buffer) > self._chunk_bytes:
            self._seal(bytes(self._buffer[: self._chunk_bytes]), last=False)
            del self._buffer[: self._chunk_bytes]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    # tarfile's stream mode needs only write(); these make it a file object.
    def flush(self) -> None:
        self._sink.flush()

    def writable(self) -> bool:
        return True


class DecryptingReader:
    """A read-only binary file object over an encrypted backup; fails loudly on any alteration."""

    def __init__(self, source: IO[bytes], passphrase: str) -> None:
        magic = source.read(len(MAGIC))
        if magic != MAGIC:
            raise BackupDecryptError("this is not a Neuroclinic backup file")
        (length,) = struct.unpack(">I", _read_exactly(source, 4))
        if length > 4096:
            raise BackupDecryptError("the backup's header is damaged")
        self._header = _read_exactly(source, length)
        try:
            header = json.loads(self._header)
            if header["kdf"] != "scrypt" or header["cipher"] != "AES-256-GCM-STREAM":
                raise BackupDecryptError("unknown encryption in the backup's header")
            key = derive_key(
                passphrase,
                salt=bytes.fromhex(header["salt"]),
                n=int(header["n"]),
                r=int(header["r"]),
                p=int(header["p"]),
            )
            self._prefix = bytes.fromhex(header["nonce_prefix"])
            self._block = int(header["chunk_bytes"]) + TAG_BYTES
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupDecryptError(
                f"the backup's header is damaged ({exc})"
            ) from None
        self._aead = AESGCM(key)
        self._source = source
        self._counter = 0
        self._plain = b""
        self._pos = 0
        self._next = source.read(self._block)
        self._done = False

    def _open_next_chunk(self) -> None:
        sealed = self._next
        self._next = self._source.read(self._block) if sealed else b""
        last = not self._next
        if not sealed:
            raise BackupDecryptError("the backup ends early: the file was cut short")
        try:
            self._plain = self._aead.decrypt(
                _nonce(self._prefix, self._counter, last), sealed, self._header
            )
        except InvalidTag:
            if self._counter == 0:
                raise BackupDecryptError(
                    "cannot decrypt: wrong BACKUP_KEY, or the file is damaged"
                ) from None
            raise BackupDecryptError(
                f"chunk {self._counter} does not authenticate: the file was altered or cut short"
            ) from None
        self._counter += 1
        self._done = last

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while size < 0 or len(out) < size:
            if self._pos >= len(self._plain):
                if self._done:
                    break
                self._open_next_chunk()
                self._pos = 0
                continue
            end = len(self._plain) if size < 0 else self._pos + size - len(out)
            piece = self._plain[self._pos : end]
            out += piece
            self._pos += len(piece)
        return bytes(out)

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        """Read to the end, so a truncated or altered tail is found even if nobody needs it."""
        while self.read(CHUNK_BYTES):
            pass


def _read_exactly(source: IO[bytes], size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise BackupDecryptError("the backup ends early: the file was cut short")
    return data
