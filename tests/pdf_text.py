"""The text drawn in a WeasyPrint PDF, for tests that check what a document says.

The project has no PDF reader among its dependencies, and WeasyPrint draws text as
glyph numbers of embedded font subsets, so the text is read back through each font's
ToUnicode map: enough to assert that a superbill shows an NPI or a letter carries
its chart's title. Not a general PDF parser (WeasyPrint's own output only).
"""

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_TYPE0 = re.compile(
    rb"/BaseFont\s*/([A-Z]{6})\+[^/\s]+\s*/ToUnicode\s+(\d+)\s+0\s+R", re.S
)
_OBJECT = re.compile(rb"(?<![0-9])(\d+)\s+0\s+obj\b(.*?)endobj", re.S)
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
_SHOW = re.compile(
    rb"/([A-Za-z0-9_+-]+)\s+[\d.]+\s+Tf"
    rb"|\[((?:\s*(?:<[0-9A-Fa-f]*>|-?[\d.]+))*)\s*\]\s*TJ"
    rb"|<([0-9A-Fa-f]*)>\s*Tj"
)


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(hex_text.decode()).decode("utf-16-be", errors="replace")


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        values = _HEX.findall(block)
        for glyph, text in zip(values[::2], values[1::2], strict=False):
            mapping[int(glyph, 16)] = _utf16(text)
    for block in _BFRANGE.findall(data):
        values = _HEX.findall(block)
        for low, high, start in zip(
            values[::3], values[1::3], values[2::3], strict=False
        ):
            first = ord(_utf16(start)[0])
            for offset, glyph in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[glyph] = chr(first + offset)
    return mapping


def pdf_text(pdf: bytes) -> str:
    """Every run of text the PDF draws, in drawing order, runs separated by spaces."""
    objects = {int(number): body for number, body in _OBJECT.findall(pdf)}
    streams = {
        number: _inflate(match.group(1))
        for number, body in objects.items()
        if (match := _STREAM.search(body))
    }
    dictionaries = pdf + b"".join(streams.values())  # object streams hold font dicts
    fonts = {
        tag.decode(): _cmap(streams.get(int(ref), b""))
        for tag, ref in _TYPE0.findall(dictionaries)
    }
    runs: list[str] = []
    for data in streams.values():
        if b"Tf" not in data:
            continue
        current: dict[int, str] = {}
        for name, array, single in _SHOW.findall(data):
            if name:
                current = fonts.get(name.decode(), {})
                continue
            glyphs = b"".join(_HEX.findall(array) if array else [single]).decode()
            runs.append(
                "".join(
                    current.get(int(glyphs[i : i + 4], 16), "?")
                    for i in range(0, len(glyphs), 4)
                )
            )
    return " ".join(runs)


def squeezed(text: str) -> str:
    """Text without whitespace: SVG text and justified lines drop or move spaces."""
    return re.sub(r"\s+", "", text)
