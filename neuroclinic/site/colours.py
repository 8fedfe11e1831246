"""Colour contrast for the clinic's brand colours (WCAG 2.2 AA: 4.5:1 for text).

Pure module: standard library only. White text sits on the primary colour and
the primary and accent colours are used for links on white, so each must
reach 4.5:1 against white.
"""

import re

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_TEXT = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    if not HEX.match(hex_colour):
        raise ValueError(f"not a #rrggbb colour: {hex_colour!r}")
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on_white(hex_colour: str) -> bool:
    return contrast_ratio(hex_colour, "#ffffff") >= AA_TEXT
