"""Clinic figures: proportions with 95% confidence intervals, Kaplan-Meier curves.

Proportions use the Wilson score interval (better than the normal approximation
for small clinics and rates near 0 or 100%). Kaplan-Meier curves come from the
lifelines library, never a hand-written estimator.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from math import sqrt

Z_95 = 1.959964


@dataclass(frozen=True)
class Rate:
    label: str
    count: int
    total: int

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        return _pct(self.count / self.total)

    @property
    def interval(self) -> tuple[Decimal, Decimal] | None:
        """The 95% Wilson score interval, in percent."""
        if not self.total:
            return None
        n, p = self.total, self.count / self.total
        centre = p + Z_95**2 / (2 * n)
        spread = Z_95 * sqrt(p * (1 - p) / n + Z_95**2 / (4 * n * n))
        scale = 1 + Z_95**2 / n
        return _pct(max((centre - spread) / scale, 0.0)), _pct(
            min((centre + spread) / scale, 1.0)
        )


def _pct(fraction: float) -> Decimal:
    return Decimal(str(fraction * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Curve:
    label: str
    points: tuple[
        tuple[float, float], ...
    ]  # (days, probability still without the event)
    at_risk: int
    events: int
    median_days: float | None


def kaplan_meier(
    label: str,
    durations: Sequence[float],
    observed: Sequence[bool],
    weights: Sequence[int] | None = None,
) -> Curve:
    """Kaplan-Meier estimate of time to an event (lifelines); censored where not observed.

    `weights`: how many episodes share each (duration, observed) pair, so a clinic's
    durations can arrive grouped from SQL; the estimate is the same as one row each.
    """
    if len(durations) != len(observed):
        raise ValueError("durations and observed differ in length")
    if weights is not None and len(weights) != len(durations):
        raise ValueError("weights and durations differ in length")
    if not durations:
        return Curve(label, (), 0, 0, None)
    from lifelines import (  # type: ignore[import-untyped]  # heavy: only when drawn
        KaplanMeierFitter,
    )

    fitter = KaplanMeierFitter()
    counts = list(weights) if weights is not None else [1] * len(durations)
    fitter.fit(list(durations), event_observed=list(observed), weights=counts)
    table = fitter.survival_function_
    points = tuple(
        (float(t), float(s)) for t, s in zip(table.index, table.iloc[:, 0], strict=True)
    )
    median = float(fitter.median_survival_time_)
    return Curve(
        label=label,
        points=points,
        at_risk=sum(counts),
        events=sum(n for o, n in zip(observed, counts, strict=True) if o),
        median_days=None if median == float("inf") else median,
    )
