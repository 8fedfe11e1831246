"""Photos the clinic uploads for its public site, checked and re-encoded with Pillow.

An upload is refused, with a message naming why, when it is too large a file, not
an image Pillow recognises as JPEG, PNG or WebP (whatever its name or the type the
browser claims), has more pixels than `MAX_PIXELS` (a decompression bomb: a small
file that expands to gigabytes), or is damaged. An accepted image is turned
upright by its EXIF orientation, shrunk to fit `max_side` pixels and written again
as a new JPEG from its pixels alone, so nothing of the original file survives:
no EXIF (camera, time, GPS position), no comments, no embedded profiles or
thumbnails, and no trailing bytes a crafted file could hide.
"""

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# 40 megapixels: larger than any phone or camera photo a clinic would upload, far
# below what would exhaust the server's memory (about 160 MB decoded as RGBA).
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
PHOTO_MAX_SIDE = 1600
PORTRAIT_MAX_SIDE = 600
JPEG_QUALITY = 85
CONTENT_TYPE = "image/jpeg"


class ImageRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int
    content_type: str = CONTENT_TYPE


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns (and only past twice its own limit, raises) for huge images:
            # every warning here is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
    ) as exc:
        if isinstance(
            exc, Image.DecompressionBombError | Image.DecompressionBombWarning
        ):
            raise ImageRefused(_too_many_pixels()) from None
        raise ImageRefused(
            "This file is not a JPEG, PNG or WebP image. Upload a photo in one of those formats."
        ) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageRefused(_too_many_pixels())
    return image


_decoding = threading.Lock()


@contextmanager
def _truncated_images_refused() -> Iterator[None]:
    """Pillow's flag for loading truncated files is process-wide, and WeasyPrint sets
    it on import (a PDF with a damaged image still renders). An upload must never be
    accepted half decoded, so the flag is off while one is loaded."""
    with _decoding:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _too_many_pixels() -> str:
    return (
        f"The image is too large ({MAX_PIXELS // 1_000_000} megapixels at most). "
        "Export a smaller copy and upload that."
    )


def clean_image(data: bytes, *, max_side: int = PHOTO_MAX_SIDE) -> CleanImage:
    """The upload, checked, upright, resized to fit `max_side` and re-encoded as JPEG
    without any metadata; raises ImageRefused with a message for the form."""
    if not data:
        raise ImageRefused("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(
            f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. "
            "Export a smaller copy and upload that."
        )
    _open(data).verify()  # structure and checksums; the image cannot be used after
    image = _open(data)
    try:
        with warnings.catch_warnings(), _truncated_images_refused():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning):
        raise ImageRefused(
            "The image is damaged or incomplete. Upload the original photo again."
        ) from None
    rgb = (
        upright.convert("RGBA")
        if upright.mode in ("P", "LA") or "transparency" in upright.info
        else upright
    )
    if rgb.mode == "RGBA":
        # Transparent parts become white, as on the page.
        flat = Image.new("RGB", rgb.size, (255, 255, 255))
        flat.paste(rgb, mask=rgb.getchannel("A"))
        rgb = flat
    elif rgb.mode != "RGB":
        rgb = rgb.convert("RGB")
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image from the pixels only: no EXIF, XMP, ICC profile or comment is carried.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanImage(out.getvalue(), clean.width, clean.height)
