"""Treatment intensity from the motor threshold, with its working.

Sources (ids in docs/sources.md):
- Motor threshold (MT) is the lowest stimulator output, in % of the machine's
  maximum, that moves the thumb on half the pulses; treatment intensity is a
  percentage of it, e.g. 120 % MT (T5).
- The method is recorded with the value: visual MT runs about 11 % above EMG MT (T8);
  relative-frequency (5 of 10) or adaptive estimation (T8b).

Rounding [D]: the stimulator is set in whole percent of output, and we round DOWN, so
the delivered intensity never exceeds the prescribed % MT (120 % of 63 = 75.6 -> 75,
i.e. 119.0 % MT). docs/tms.md gives the reasons.

Refusals: an MT outside 1-100 % output; a % MT at or below 0 or above the protocol's
maximum; an exact output above the device's maximum (100 % unless the device says
less), even when rounding down would fit: the prescriber lowers the % MT explicitly.

Pure module: standard library only.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

HUNDRED = Decimal(100)
DEVICE_MAX_OUTPUT_PERCENT = 100


class IntensityError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Intensity:
    threshold_percent_output: int
    percent_of_mt: Decimal
    output_percent: int  # what the technician sets on the stimulator
    exact_output_percent: Decimal  # before rounding

    @property
    def delivered_percent_of_mt(self) -> Decimal:
        """The % MT actually delivered after rounding, to one decimal."""
        return (self.output_percent * HUNDRED / self.threshold_percent_output).quantize(
            Decimal("0.1"), rounding=ROUND_FLOOR
        )

    @property
    def working(self) -> str:
        return (
            f"{self.percent_of_mt.normalize():f} % of MT {self.threshold_percent_output} % = "
            f"{self.exact_output_percent.normalize():f} % output, set {self.output_percent} % "
            f"(rounded down: {self.delivered_percent_of_mt} % MT)"
        )


def check_threshold(value: int) -> None:
    if not 1 <= value <= 100:
        raise IntensityError(
            "A motor threshold is 1-100 % of machine output.",
            field="threshold_percent_output",
        )


def treatment_intensity(
    *,
    threshold_percent_output: int,
    percent_of_mt: Decimal,
    max_percent_of_mt: Decimal,
    device_max_output_percent: int = DEVICE_MAX_OUTPUT_PERCENT,
) -> Intensity:
    check_threshold(threshold_percent_output)
    if percent_of_mt <= 0:
        raise IntensityError("Intensity is a positive % of MT.", field="percent_of_mt")
    if percent_of_mt > max_percent_of_mt:
        raise IntensityError(
            f"{percent_of_mt.normalize():f} % MT is above the protocol's maximum of "
            f"{max_percent_of_mt.normalize():f} % MT.",
            field="percent_of_mt",
        )
    exact = threshold_percent_output * percent_of_mt / HUNDRED
    output = int(exact.to_integral_value(rounding=ROUND_FLOOR))
    # On the exact value: a prescription the device cannot reach is the prescriber's to lower.
    if exact > device_max_output_percent:
        raise IntensityError(
            f"{percent_of_mt.normalize():f} % of MT {threshold_percent_output} % needs "
            f"{exact.normalize():f} % output, above the device's maximum of "
            f"{device_max_output_percent} %.",
            field="percent_of_mt",
        )
    if output < 1:
        raise IntensityError(
            "That intensity rounds to no output.", field="percent_of_mt"
        )
    return Intensity(threshold_percent_output, percent_of_mt, output, exact)
