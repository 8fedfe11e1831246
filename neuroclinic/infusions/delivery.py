"""How much of the bag went in: volume from the pump timeline, drug from the volume.

The pump runs at a rate (mL/h) between start and stop, except while paused; a rate
change applies from its time on. Volume infused is the sum of rate x time over the
running stretches, so the note shows the mg/kg actually delivered when an infusion
stops early [D]. The bag holds the drawn drug diluted evenly, so the fraction of the
bag infused is the fraction of the drug given. The nurse confirms the pump's own
"volume infused" reading at stop; this module gives the estimate and the arithmetic.

Units: mL, mL/h, mg, mg/kg, hours. Decimal throughout; times are aware datetimes.

Pure module: standard library only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

VOLUME_ROUNDING_ML = Decimal("0.01")
MG_ROUNDING = Decimal("0.01")
MG_PER_KG_ROUNDING = Decimal("0.001")


class PumpStep(StrEnum):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    RATE_CHANGED = "rate_changed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class PumpEvent:
    at: datetime
    step: PumpStep
    rate_ml_per_hour: Decimal | None = None  # for started, resumed and rate_changed


@dataclass(frozen=True)
class Delivered:
    volume_infused_ml: Decimal
    fraction_of_bag: Decimal
    drug_volume_ml: (
        Decimal  # of the vial's strength: what the ledger records as administered
    )
    mg: Decimal
    mg_per_kg: Decimal


def infused_volume_ml(
    events: Sequence[PumpEvent],
    *,
    until: datetime,
    bag_volume_ml: Decimal | None = None,
) -> Decimal:
    """Volume run in by `until` (or the stop), rounded to 0.01 mL; never more than the bag."""
    ordered = sorted(events, key=lambda e: e.at)
    volume = Decimal(0)
    running_since: datetime | None = None
    rate = Decimal(0)
    for event in ordered:
        if event.at > until:
            break
        if running_since is not None:
            volume += rate * _hours(event.at - running_since)
        if event.step in (PumpStep.STARTED, PumpStep.RESUMED):
            running_since = event.at
            rate = _rate(event)
        elif event.step is PumpStep.RATE_CHANGED:
            rate = _rate(event)
            running_since = event.at if running_since is not None else None
        elif event.step in (PumpStep.PAUSED, PumpStep.STOPPED):
            running_since = None
        if event.step is PumpStep.STOPPED:
            break
    else:
        if running_since is not None:
            volume += rate * _hours(until - running_since)
    if bag_volume_ml is not None:
        volume = min(volume, bag_volume_ml)
    return volume.quantize(VOLUME_ROUNDING_ML, ROUND_HALF_UP)


def delivered(
    *,
    volume_infused_ml: Decimal,
    bag_volume_ml: Decimal,
    drug_volume_ml: Decimal,
    concentration_mg_per_ml: Decimal,
    dosing_weight_kg: Decimal,
) -> Delivered:
    """The drug given from the volume infused, as the ledger counts it.

    The drug volume is rounded to 0.01 mL (a syringe graduation, as drawn), and the
    mg are that volume times the vial's strength, so the note and the ledger agree.
    """
    if bag_volume_ml <= 0:
        raise ValueError("bag_volume_ml must be more than 0")
    if not 0 <= volume_infused_ml <= bag_volume_ml:
        raise ValueError(
            f"volume infused must be 0-{bag_volume_ml} mL (the bag), not {volume_infused_ml}"
        )
    if dosing_weight_kg <= 0:
        raise ValueError("dosing_weight_kg must be more than 0")
    fraction = volume_infused_ml / bag_volume_ml
    drug_ml = (drug_volume_ml * fraction).quantize(VOLUME_ROUNDING_ML, ROUND_HALF_UP)
    mg = (drug_ml * concentration_mg_per_ml).quantize(MG_ROUNDING, ROUND_HALF_UP)
    return Delivered(
        volume_infused_ml=volume_infused_ml,
        fraction_of_bag=fraction,
        drug_volume_ml=drug_ml,
        mg=mg,
        mg_per_kg=(mg / dosing_weight_kg).quantize(MG_PER_KG_ROUNDING, ROUND_HALF_UP),
    )


def rate_limits_ml_per_hour(
    *, calculated_rate_ml_per_hour: Decimal, min_percent: int, max_percent: int
) -> tuple[Decimal, Decimal]:
    """The pump rates the order allows, rounded inward to the pump's 0.1 mL/h."""
    step = Decimal("0.1")
    low = (calculated_rate_ml_per_hour * min_percent / 100).quantize(
        step, rounding="ROUND_CEILING"
    )
    high = (calculated_rate_ml_per_hour * max_percent / 100).quantize(
        step, rounding="ROUND_FLOOR"
    )
    return low, high


def _rate(event: PumpEvent) -> Decimal:
    if event.rate_ml_per_hour is None or event.rate_ml_per_hour < 0:
        raise ValueError(f"{event.step} at {event.at} needs a rate of 0 mL/h or more")
    return event.rate_ml_per_hour


def _hours(span: timedelta) -> Decimal:
    return Decimal(span.total_seconds()) / Decimal(3600)
