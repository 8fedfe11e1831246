"""Quality measures: depression remission at twelve months (CMS159 / NQF 0710) and at six.

Source: M17 (docs/sources.md): the denominator is patients aged 12 or more with major
depression or dysthymia whose index PHQ-9 is above 9; the numerator is those whose
PHQ-9 is below 5 twelve months (plus or minus 60 days) after the index event; patients
are excluded for bipolar disorder, personality disorder (emotionally labile),
schizophrenia or psychotic disorder, pervasive developmental disorder, or death (and
hospice, palliative care or permanent nursing-home residence, which this clinic does
not record: a known gap). The six-month companion uses the same rules at six months
([U]: its window is taken as +/- 60 days too; check against the specification).

The published value sets are SNOMED and ICD-10 lists; here they are approximated by
ICD-10 code prefixes ([U]: a simplification to check against the value sets).

Pure module: standard library only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

INDEX_PHQ9_ABOVE = 9
REMISSION_PHQ9_BELOW = 5
MIN_AGE_YEARS = 12

DEPRESSION_PREFIXES = ("F32", "F33", "F34.1")
EXCLUSION_PREFIXES = {
    "F31": "bipolar disorder",
    "F20": "schizophrenia",
    "F21": "psychotic disorder",
    "F22": "psychotic disorder",
    "F23": "psychotic disorder",
    "F24": "psychotic disorder",
    "F25": "psychotic disorder",
    "F28": "psychotic disorder",
    "F29": "psychotic disorder",
    "F60.3": "personality disorder, emotionally labile",
    "F84": "pervasive developmental disorder",
}


@dataclass(frozen=True)
class MeasureSpec:
    code: str
    title: str
    months: int
    window_days: int = 60


CMS159 = MeasureSpec("CMS159", "Depression remission at twelve months", 12)
SIX_MONTH = MeasureSpec("REM6", "Depression remission at six months", 6)
MEASURES = (CMS159, SIX_MONTH)


@dataclass(frozen=True)
class PatientFacts:
    ref: str  # an opaque reference for the audit list (the caller maps it to a chart)
    birth_date: date
    diagnosis_codes: tuple[str, ...]
    phq9: tuple[tuple[date, int], ...]  # (date taken, total)
    died_on: date | None = None


@dataclass(frozen=True)
class PatientResult:
    ref: str
    in_denominator: bool
    exclusion: str  # "" when not excluded
    in_numerator: bool
    index_on: date | None
    index_total: int | None
    follow_up_on: date | None
    follow_up_total: int | None
    reason: str


@dataclass(frozen=True)
class MeasureResult:
    spec: MeasureSpec
    period_start: date
    period_end: date
    patients: tuple[PatientResult, ...]

    @property
    def denominator(self) -> int:
        return sum(1 for p in self.patients if p.in_denominator and not p.exclusion)

    @property
    def exclusions(self) -> int:
        return sum(1 for p in self.patients if p.in_denominator and p.exclusion)

    @property
    def numerator(self) -> int:
        return sum(1 for p in self.patients if p.in_numerator)

    @property
    def rate_percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        rate = Decimal(self.numerator * 100) / Decimal(self.denominator)
        return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_months(on: date, months: int) -> date:
    month = on.month - 1 + months
    year, month = on.year + month // 12, month % 12 + 1
    for day in (on.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _has(codes: Sequence[str], prefixes: Sequence[str]) -> bool:
    return any(c.upper().startswith(p) for c in codes for p in prefixes)


def evaluate_patient(
    spec: MeasureSpec, facts: PatientFacts, period_start: date, period_end: date
) -> PatientResult:
    scores = sorted(facts.phq9)
    index = next(
        (
            (on, total)
            for on, total in scores
            if period_start <= on <= period_end and total > INDEX_PHQ9_ABOVE
        ),
        None,
    )

    def result(**kw: object) -> PatientResult:
        base: dict[str, object] = {
            "ref": facts.ref,
            "in_denominator": False,
            "exclusion": "",
            "in_numerator": False,
            "index_on": index[0] if index else None,
            "index_total": index[1] if index else None,
            "follow_up_on": None,
            "follow_up_total": None,
            "reason": "",
        }
        return PatientResult(**(base | kw))  # type: ignore[arg-type]

    if not _has(facts.diagnosis_codes, DEPRESSION_PREFIXES):
        return result(reason="No major depression or dysthymia diagnosis.")
    if index is None:
        return result(reason="No PHQ-9 above 9 in the period.")
    if _age_on(facts.birth_date, index[0]) < MIN_AGE_YEARS:
        return result(reason="Under 12 at the index event.")
    exclusion = next(
        (
            label
            for prefix, label in EXCLUSION_PREFIXES.items()
            if _has(facts.diagnosis_codes, (prefix,))
        ),
        "",
    )
    target = add_months(index[0], spec.months)
    window = (
        target - timedelta(days=spec.window_days),
        target + timedelta(days=spec.window_days),
    )
    if not exclusion and facts.died_on and facts.died_on <= window[1]:
        exclusion = "died"
    if exclusion:
        return result(
            in_denominator=True, exclusion=exclusion, reason=f"Excluded: {exclusion}."
        )
    in_window = [(on, t) for on, t in scores if window[0] <= on <= window[1]]
    if not in_window:
        return result(
            in_denominator=True,
            reason=f"No PHQ-9 between {window[0]:%Y-%m-%d} and {window[1]:%Y-%m-%d}.",
        )
    on, total = in_window[-1]
    remitted = total < REMISSION_PHQ9_BELOW
    return result(
        in_denominator=True,
        in_numerator=remitted,
        follow_up_on=on,
        follow_up_total=total,
        reason="Remission (PHQ-9 below 5)." if remitted else "Not in remission.",
    )


def evaluate(
    spec: MeasureSpec,
    cohort: Sequence[PatientFacts],
    period_start: date,
    period_end: date,
) -> MeasureResult:
    """Every patient's place in the measure, for the audit list behind each number."""
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    return MeasureResult(
        spec=spec,
        period_start=period_start,
        period_end=period_end,
        patients=tuple(
            evaluate_patient(spec, f, period_start, period_end) for f in cohort
        ),
    )
