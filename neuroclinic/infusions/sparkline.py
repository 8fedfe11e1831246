"""A tiny trend line for the nurse-station board: numbers in, SVG points out.

No inline styles (the Content-Security-Policy forbids them): the SVG carries
classes and the stylesheet colours it.

Pure module: standard library only.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spark:
    points: str  # "x,y x,y ..." for <polyline points>
    last_x: float
    last_y: float
    width: int
    height: int


def spark(
    values: Sequence[int | float],
    *,
    width: int = 120,
    height: int = 32,
    low: float | None = None,
    high: float | None = None,
    pad: float = 3.0,
) -> Spark | None:
    """Scale `values` (oldest first) into the box; None when there are fewer than two."""
    if len(values) < 2:
        return None
    lo = min(values) if low is None else min(low, *values)
    hi = max(values) if high is None else max(high, *values)
    span = (hi - lo) or 1
    step = (width - 2 * pad) / (len(values) - 1)
    coords = [
        (pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad))
        for i, v in enumerate(values)
    ]
    return Spark(
        points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
        last_x=round(coords[-1][0], 1),
        last_y=round(coords[-1][1], 1),
        width=width,
        height=height,
    )
