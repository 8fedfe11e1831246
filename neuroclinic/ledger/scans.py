"""Invoice scans: PDF, JPEG or PNG, judged by their first bytes, not their name or header."""

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from neuroclinic.ledger.errors import LedgerError

MAX_SCAN_BYTES = 10 * 1024 * 1024  # a multi-page scanned invoice fits easily

# (magic bytes, content type, file extension)
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


@dataclass(frozen=True)
class CheckedScan:
    content: ContentFile  # type: ignore[type-arg]
    content_type: str
    extension: str
    sha256: str
    size_bytes: int


def check_scan(upload: "UploadedFile[bytes]") -> CheckedScan:
    """The upload, read and checked, or LedgerError on `invoice_scan`."""
    size = upload.size or 0
    if size > MAX_SCAN_BYTES:
        raise LedgerError(
            f"The scan is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_SCAN_BYTES // 1024 // 1024} MB.",
            field="invoice_scan",
            code="scan_too_large",
        )
    data = upload.read(MAX_SCAN_BYTES + 1)
    if len(data) > MAX_SCAN_BYTES:
        raise LedgerError(
            f"The scan is larger than {MAX_SCAN_BYTES // 1024 // 1024} MB.",
            field="invoice_scan",
            code="scan_too_large",
        )
    if not data:
        raise LedgerError("The scan is empty.", field="invoice_scan", code="scan_empty")
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return CheckedScan(
                content=ContentFile(data),
                content_type=content_type,
                extension=extension,
                sha256=hashlib.sha256(data).hexdigest(),
                size_bytes=len(data),
            )
    raise LedgerError(
        "The scan must be a PDF, JPEG or PNG file (its contents are none of these).",
        field="invoice_scan",
        code="scan_type",
    )
