"""The backup file's encryption: round trips at every size, refuses anything altered, cut or mis-keyed."""

import io

import pytest

from neuroclinic.operations.backup.crypto import (
    BackupDecryptError,
    DecryptingReader,
    EncryptingWriter,
)

CHUNK = 1024
PASSPHRASE = "a long passphrase"
CHEAP_N = (
    2**10
)  # the real cost is 2**17; these tests check the construction, not the KDF


def _encrypt(data: bytes, passphrase: str = PASSPHRASE) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, passphrase, chunk_bytes=CHUNK, scrypt_n=CHEAP_N)
    writer.write(data[:7])
    writer.write(data[7:])
    writer.close()
    return sink.getvalue()


def _decrypt(blob: bytes, passphrase: str = PASSPHRASE) -> bytes:
    reader = DecryptingReader(io.BytesIO(blob), passphrase)
    out = bytearray()
    while piece := reader.read(333):
        out += piece
    return bytes(out)


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 17]
)
def test_round_trip_at_chunk_edges(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]

    assert _decrypt(_encrypt(data)) == data


def test_the_plaintext_does_not_appear_in_the_file() -> None:
    data = b"Samplesworth, Casey; 555-0142 " * 100

    assert b"Samplesworth" not in _encrypt(data)


def test_a_wrong_passphrase_is_refused() -> None:
    with pytest.raises(BackupDecryptError, match="wrong BACKUP_KEY"):
        _decrypt(_encrypt(b"x" * 3000), "another passphrase")


# 16: exactly the (empty) last chunk, a cut on a chunk boundary; CHUNK + 16: a whole chunk more.
@pytest.mark.parametrize("cut", [1, 16, CHUNK + 16, CHUNK + 17])
def test_a_file_cut_short_anywhere_is_refused(cut: int) -> None:
    blob = _encrypt(b"y" * (3 * CHUNK + 100))

    with pytest.raises(BackupDecryptError):
        _decrypt(blob[:-cut])


def test_an_altered_byte_or_reordered_chunks_are_refused() -> None:
    blob = bytearray(_encrypt(b"w" * (3 * CHUNK)))
    flipped = bytearray(blob)
    flipped[-100] ^= 1
    with pytest.raises(BackupDecryptError, match="does not authenticate"):
        _decrypt(bytes(flipped))

    block = CHUNK + 16
    end = len(blob) - 16  # before the empty last chunk
    first = end - 3 * block
    swapped = (
        blob[:first]
        + blob[first + block : first + 2 * block]
        + blob[first : first + block]
        + blob[first + 2 * block :]
    )
    with pytest.raises(BackupDecryptError):
        _decrypt(bytes(swapped))


def test_something_else_is_not_taken_for_a_backup() -> None:
    with pytest.raises(BackupDecryptError, match="not a Neuroclinic backup"):
        _decrypt(b"SQLite format 3\x00" + b"\x00" * 100)
