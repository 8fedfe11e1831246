"""Outcome rules on instrument totals: percent change from baseline, response, remission.

Source: K5, K21, K24, M7, M9, M17, T4 (docs/sources.md).
- Response: a reduction of at least 50% from the baseline total (MADRS, HAM-D,
  PHQ-9: K5, K24, K21; NQF 1885 for PHQ-9, M17).
- Remission: PHQ-9 total < 5 (CMS159 / NQF 0710, M17); QIDS-SR16 total <= 5 (M7);
  MADRS total <= 10. Sources disagree for MADRS: <= 10 is the common threshold,
  SAINT's < 11 is the same rule for whole-number totals, and the esketamine
  programme used <= 12 (M8, T4, K21). HAM-D17 total <= 7 (M9). The clinic may choose another threshold
  (`max_total=`); the medical director owns that setting.

Units: totals are instrument points (ints); percent change is a Decimal percentage,
rounded half-up to 0.1 for display (`PERCENT_CHANGE_QUANTUM`). Response is decided
by exact integer arithmetic, never from the rounded percentage.
Both totals must come from the same instrument: never mix instruments in one
percent change. Baseline is per treatment episode, chosen by the caller.

The clinic's definitions (`OutcomeRules`): response %, partial response %, the
relapse rule's consecutive scores and the remission maximum per scale are the
medical director's versioned settings (stored by the outcomes app, read by every
app through `measures.outcome_rules.clinic_outcome_rules`); the defaults here are
the cited values above. Partial response 25-49% below baseline is a common
convention [U]; relapse: after response or remission, the loss of response on 2
consecutive scores (K5, K21 [U exact criteria]).

Pure module: standard library only. Prose: docs/clinical/instruments.md.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from neuroclinic.measures.instruments import InstrumentCode, get_instrument

PERCENT_CHANGE_QUANTUM = Decimal("0.1")
RESPONSE_REDUCTION_PERCENT = 50
PARTIAL_REDUCTION_PERCENT = 25  # [U] common convention
RELAPSE_CONSECUTIVE_SCORES = 2

PHQ9_REMISSION_MAX = 4  # "total < 5"
QIDS_SR16_REMISSION_MAX = 5
MADRS_REMISSION_MAX = 10
HAMD17_REMISSION_MAX = 7

REMISSION_MAX_TOTAL: Mapping[str, int] = MappingProxyType(
    {
        InstrumentCode.PHQ9: PHQ9_REMISSION_MAX,
        InstrumentCode.QIDS_SR16: QIDS_SR16_REMISSION_MAX,
        InstrumentCode.MADRS: MADRS_REMISSION_MAX,
        InstrumentCode.HAMD17: HAMD17_REMISSION_MAX,
    }
)


@dataclass(frozen=True)
class OutcomeRules:
    """The clinic's outcome definitions (defaults: the cited values above)."""

    response_reduction_percent: int = RESPONSE_REDUCTION_PERCENT
    partial_reduction_percent: int = PARTIAL_REDUCTION_PERCENT
    relapse_consecutive: int = RELAPSE_CONSECUTIVE_SCORES
    remission_max: Mapping[str, int] = field(
        default_factory=lambda: REMISSION_MAX_TOTAL
    )

    def __post_init__(self) -> None:
        if (
            not 0
            < self.partial_reduction_percent
            < self.response_reduction_percent
            <= 100
        ):
            raise ValueError("need 0 < partial < response <= 100 percent")
        if self.relapse_consecutive < 1:
            raise ValueError("relapse_consecutive must be at least 1")

    def responds(self, *, baseline_total: int, current_total: int) -> bool:
        """A response by this clinic's percentage (exact integer arithmetic)."""
        return is_response(
            baseline_total=baseline_total,
            current_total=current_total,
            reduction_percent=self.response_reduction_percent,
        )

    def remission_max_for(self, code: str) -> int | None:
        """The clinic's remission maximum for a scale; None where none is set."""
        return self.remission_max.get(code)

    def remits(self, code: str, total: int) -> bool | None:
        """Remission by this clinic's maximum; None for a scale without one."""
        threshold = self.remission_max_for(code)
        if threshold is None:
            return None
        return is_remission(code, total, max_total=threshold)


def _check_total(total: int, *, name: str) -> None:
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError(f"{name} must be an int, not {type(total).__name__}")
    if total < 0:
        raise ValueError(f"{name} must not be negative, got {total}")


def _check_baseline(baseline_total: int) -> None:
    _check_total(baseline_total, name="baseline_total")
    if baseline_total == 0:
        raise ValueError(
            "baseline_total is 0: percent change and response are undefined"
        )


def response_change(*, baseline_total: int, current_total: int) -> Decimal:
    """Percent change from baseline; negative when the total fell (improved)."""
    _check_baseline(baseline_total)
    _check_total(current_total, name="current_total")
    change = Decimal(current_total - baseline_total) * 100 / Decimal(baseline_total)
    return change.quantize(PERCENT_CHANGE_QUANTUM, rounding=ROUND_HALF_UP)


def is_response(
    *,
    baseline_total: int,
    current_total: int,
    reduction_percent: int = RESPONSE_REDUCTION_PERCENT,
) -> bool:
    _check_baseline(baseline_total)
    _check_total(current_total, name="current_total")
    if not 0 < reduction_percent <= 100:
        raise ValueError(f"reduction_percent must be 1-100, got {reduction_percent}")
    return (baseline_total - current_total) * 100 >= reduction_percent * baseline_total


def is_remission(code: str, total: int, *, max_total: int | None = None) -> bool:
    """Whether `total` on instrument `code` is in remission (total <= the instrument's threshold)."""
    instrument = get_instrument(code)
    _check_total(total, name="total")
    if instrument.total_range is not None and total > instrument.total_range[1]:
        raise ValueError(
            f"{instrument.code} totals run {instrument.total_range[0]}-"
            f"{instrument.total_range[1]}, got {total}"
        )
    threshold = (
        max_total if max_total is not None else REMISSION_MAX_TOTAL.get(instrument.code)
    )
    if threshold is None:
        raise ValueError(
            f"no remission threshold is defined for {instrument.code}; pass max_total"
        )
    return total <= threshold
