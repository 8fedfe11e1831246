"""What an uploaded file really is, by its first bytes, not its name, and the hash
we keep of it (and of signed text).

Pure module: standard library only. Only PDF, JPEG and PNG are accepted
(issue #4, "Bad input and abuse").
"""

import hashlib

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_SIGNATURE_BYTES = 300 * 1024

_MAGIC = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
)


def sniff(head: bytes) -> str | None:
    """The content type these leading bytes begin, among the accepted ones, or None."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def sha256_hex(data: bytes | str) -> str:
    """The SHA-256 of bytes, or of text as UTF-8, in hex."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
