"""Validation and scoring of questionnaire responses, exactly as published.

Sources and instrument abbreviations: see `catalogue.py` and docs/sources.md (M1-M15).
Safety rules: Source: M2, C4, C5, C6 (PHQ-9 item 9) and M10 (C-SSRS triage).
Rules in prose with worked examples: docs/clinical/instruments.md.

A response is a mapping {linkId: option value}. It is validated as a whole and
refused with every problem listed (`InvalidResponse`); nothing is prorated,
dropped or guessed, and a response missing a required item is never scored.
Answers must be plain ints that are one of the item's option values: "2", 2.0 and
True are refused (bool is an int subclass, so it is checked first). None means
"not answered", the same as leaving the linkId out.

Policy decisions, each a named constant below so the medical director can change it:
- Any non-zero answer on an instrument's suicide item raises `safety_alert`
  (PHQ-9 item 9, Source: M2, C4; QIDS-SR16 item 12, MADRS item 10 and HAM-D17
  item 3 by the same rule, MADRS and HAM-D17 being clinician-entered concerns).
- C-SSRS screener triage follows the Columbia triage points (M10): yes to item 1 or
  2 is low, item 3 or lifetime behaviour (item 6) more than 3 months ago is
  moderate, item 4, 5 or behaviour within 3 months is high. Every level above
  "none" raises `safety_alert`, consistent with PHQ-9 item 9 >= 1 alerting on
  passive thoughts of death (`CSSRS_ALERT_TRIAGE`).
- PCL-5 provisional PTSD at a total >= 33 (published range 31-33, M11).

Pure module: standard library only.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from neuroclinic.measures.instruments.catalogue import (
    MDQ_SYMPTOM_LINK_IDS,
    YES,
    InstrumentCode,
    UnknownInstrument,
    get_instrument,
)
from neuroclinic.measures.instruments.model import Instrument, Item, Severity, Sex


class Triage(StrEnum):
    """C-SSRS screener triage level, lowest first."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class ScoreFlag(StrEnum):
    PHQ9_ITEM9_POSITIVE = "phq9_item9_positive"
    PHQ2_POSITIVE = "phq2_positive"
    GAD2_POSITIVE = "gad2_positive"
    QIDS_ITEM12_POSITIVE = "qids_item12_positive"
    MADRS_ITEM10_POSITIVE = "madrs_item10_positive"
    HAMD17_ITEM3_POSITIVE = "hamd17_item3_positive"
    CSSRS_POSITIVE = "cssrs_positive"
    PCL5_PROVISIONAL_PTSD = "pcl5_provisional_ptsd"
    PCL5_DSM5_SYMPTOM_PATTERN = "pcl5_dsm5_symptom_pattern"
    MDQ_POSITIVE = "mdq_positive"
    AUDIT_C_POSITIVE = "audit_c_positive"


class ResponseErrorCode(StrEnum):
    NOT_A_MAPPING = "not_a_mapping"
    UNKNOWN_ITEM = "unknown_item"
    WRONG_TYPE = "wrong_type"
    NOT_AN_OPTION = "not_an_option"
    MISSING = "missing"
    NOT_ASKED = "not_asked"
    MISSING_SEX = "missing_sex"
    INVALID_SEX = "invalid_sex"


@dataclass(frozen=True)
class ResponseError:
    """One problem with a response. `link_id` is None for the response as a whole or the `sex` input."""

    link_id: str | None
    message: str
    code: ResponseErrorCode


class InvalidResponse(ValueError):
    def __init__(self, errors: list[ResponseError]) -> None:
        self.errors = errors
        super().__init__("; ".join(error.message for error in errors))


@dataclass(frozen=True)
class Score:
    """The scored response. `total` is None for the C-SSRS screener, which triages instead."""

    instrument_code: str
    instrument_version: str
    total: int | None
    severity: Severity | None
    flags: tuple[ScoreFlag, ...] = ()
    subscales: dict[str, int] = field(default_factory=dict)
    triage: Triage | None = None
    safety_alert: bool = False


# Suicide items -----------------------------------------------------------------


@dataclass(frozen=True)
class SuicideItem:
    link_id: str
    alert_min: int
    flag: ScoreFlag


PHQ9_ITEM9_ALERT_MIN = 1
QIDS_ITEM12_ALERT_MIN = 1
MADRS_ITEM10_ALERT_MIN = 1
HAMD17_ITEM3_ALERT_MIN = 1

SUICIDE_ITEMS: Mapping[str, SuicideItem] = MappingProxyType(
    {
        InstrumentCode.PHQ9: SuicideItem(
            "phq9-9", PHQ9_ITEM9_ALERT_MIN, ScoreFlag.PHQ9_ITEM9_POSITIVE
        ),
        InstrumentCode.QIDS_SR16: SuicideItem(
            "qids-sr16-12", QIDS_ITEM12_ALERT_MIN, ScoreFlag.QIDS_ITEM12_POSITIVE
        ),
        InstrumentCode.MADRS: SuicideItem(
            "madrs-10", MADRS_ITEM10_ALERT_MIN, ScoreFlag.MADRS_ITEM10_POSITIVE
        ),
        InstrumentCode.HAMD17: SuicideItem(
            "hamd17-3", HAMD17_ITEM3_ALERT_MIN, ScoreFlag.HAMD17_ITEM3_POSITIVE
        ),
    }
)

# Cut-offs ----------------------------------------------------------------------

PHQ2_POSITIVE_CUTOFF = 3  # M5; >= 2 is more sensitive (Arroll 2010), not used here
GAD2_POSITIVE_CUTOFF = 3  # M19: 3 or more warrants the GAD-7 and an assessment

# Blevins 2015 and Bovin 2016 (M11) support 31-33; 33 is the figure the National
# Center for PTSD gives as a reasonable default. Some psychiatric outpatient samples
# need higher (38, 45): a clinic setting.
PCL5_PROVISIONAL_PTSD_CUTOFF = 33

# DSM-5 pattern (National Center for PTSD scoring guide): an item rated 2
# "Moderately" or higher counts as an endorsed symptom; at least 1 B, 1 C, 2 D and
# 2 E symptoms.
PCL5_SYMPTOM_ENDORSED_MIN = 2
PCL5_CLUSTERS: tuple[tuple[str, range, int], ...] = (
    # (subscale name, item numbers, endorsed symptoms the DSM-5 pattern needs)
    ("cluster_b", range(1, 6), 1),
    ("cluster_c", range(6, 8), 1),
    ("cluster_d", range(8, 15), 2),
    ("cluster_e", range(15, 21), 2),
)

MDQ_SYMPTOM_CUTOFF = 7  # yes answers out of 13
MDQ_IMPAIRMENT_POSITIVE_MIN = 2  # "Moderate problem" or "Serious problem"

AUDIT_C_POSITIVE_CUTOFFS: Mapping[Sex, int] = MappingProxyType(
    {Sex.MALE: 4, Sex.FEMALE: 3}
)

# QIDS-SR16: nine DSM-IV symptom domains, each the highest of its items (M7).
QIDS_DOMAINS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("sleep", (1, 2, 3, 4)),
    ("sad_mood", (5,)),
    ("appetite_weight", (6, 7, 8, 9)),
    ("concentration", (10,)),
    ("self_view", (11,)),
    ("suicidal_ideation", (12,)),
    ("interest", (13,)),
    ("energy", (14,)),
    ("psychomotor", (15, 16)),
)

# C-SSRS screener: the triage level a "yes" to each item implies; the response's
# level is the highest among its yes answers (M10, Columbia triage points).
CSSRS_TRIAGE_BY_YES_ITEM: Mapping[str, Triage] = MappingProxyType(
    {
        "cssrs-screener-1": Triage.LOW,
        "cssrs-screener-2": Triage.LOW,
        "cssrs-screener-3": Triage.MODERATE,
        "cssrs-screener-4": Triage.HIGH,
        "cssrs-screener-5": Triage.HIGH,
        # Behaviour ever; without the follow-up below it was > 3 months ago.
        "cssrs-screener-6": Triage.MODERATE,
        "cssrs-screener-6a": Triage.HIGH,
    }
)
CSSRS_ALERT_TRIAGE = frozenset({Triage.LOW, Triage.MODERATE, Triage.HIGH})
_TRIAGE_ORDER = (Triage.NONE, Triage.LOW, Triage.MODERATE, Triage.HIGH)


# Validation --------------------------------------------------------------------


def _option_list(item: Item) -> str:
    return ", ".join(str(value) for value in sorted(item.option_values))


def _value_error(item: Item, raw: object) -> ResponseError | None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        return ResponseError(
            item.link_id,
            f"{item.link_id}: the answer must be an int option value"
            f" ({_option_list(item)}), not {type(raw).__name__} {raw!r}.",
            ResponseErrorCode.WRONG_TYPE,
        )
    if raw not in item.option_values:
        return ResponseError(
            item.link_id,
            f"{item.link_id}: {raw} is not an option; choose one of {_option_list(item)}.",
            ResponseErrorCode.NOT_AN_OPTION,
        )
    return None


def _is_asked(
    item: Item,
    *,
    items: Mapping[str, Item],
    values: Mapping[str, int],
    answered: frozenset[str],
) -> bool | None:
    """Whether the branching asks this item; None when it depends on an answer that is itself in error."""
    if item.enable_when is None:
        return True
    controller = items[item.enable_when.link_id]
    controller_asked = _is_asked(
        controller, items=items, values=values, answered=answered
    )
    if not controller_asked:
        return controller_asked
    if controller.link_id in values:
        return values[controller.link_id] == item.enable_when.answer
    if controller.link_id in answered or controller.required:
        return None  # the controller's own error is reported; don't pile on
    return False


def _validated_values(
    instrument: Instrument, answers: object, errors: list[ResponseError]
) -> dict[str, int]:
    if not isinstance(answers, Mapping):
        errors.append(
            ResponseError(
                None,
                "Answers must be a mapping of linkId to option value.",
                ResponseErrorCode.NOT_A_MAPPING,
            )
        )
        return {}

    items = {item.link_id: item for item in instrument.items}
    for key in answers:
        if key not in items:
            errors.append(
                ResponseError(
                    str(key),
                    f"{key!r} is not an item of {instrument.code}.",
                    ResponseErrorCode.UNKNOWN_ITEM,
                )
            )

    values: dict[str, int] = {}
    answered_ids: set[str] = set()
    for item in instrument.items:
        raw = answers.get(item.link_id)
        if raw is None:
            continue
        answered_ids.add(item.link_id)
        error = _value_error(item, raw)
        if error is None:
            values[item.link_id] = int(raw)
        else:
            errors.append(error)

    answered = frozenset(answered_ids)
    for item in instrument.items:
        asked = _is_asked(item, items=items, values=values, answered=answered)
        if asked and item.required and item.link_id not in answered:
            errors.append(
                ResponseError(
                    item.link_id,
                    f"{item.link_id}: an answer is required.",
                    ResponseErrorCode.MISSING,
                )
            )
        elif asked is False and item.link_id in answered:
            assert item.enable_when is not None  # only branching skips an item
            controller = items[item.enable_when.link_id]
            asked_if = next(
                option.label
                for option in controller.options
                if option.value == item.enable_when.answer
            )
            errors.append(
                ResponseError(
                    item.link_id,
                    f"{item.link_id}: must be left unanswered; it is asked only when"
                    f" {controller.link_id} is {asked_if!r}.",
                    ResponseErrorCode.NOT_ASKED,
                )
            )

    for group in instrument.required_one_of:
        if answered.isdisjoint(group):
            errors.append(
                ResponseError(
                    group[0],
                    f"Answer at least one of {', '.join(group)}.",
                    ResponseErrorCode.MISSING,
                )
            )
    return values


_SEX_VALUES = frozenset(member.value for member in Sex)


def _validated_sex(sex: object, errors: list[ResponseError]) -> Sex | None:
    if sex is None:
        errors.append(
            ResponseError(
                None,
                "Sex is required: the positive cut-off differs for men and women.",
                ResponseErrorCode.MISSING_SEX,
            )
        )
        return None
    if isinstance(sex, str) and sex in _SEX_VALUES:
        return Sex(sex)
    errors.append(
        ResponseError(
            None,
            f"Sex must be one of {', '.join(Sex)}, not {sex!r}; for other values the"
            " clinic chooses which cut-off to apply.",
            ResponseErrorCode.INVALID_SEX,
        )
    )
    return None


def _resolve(code_or_instrument: str | Instrument) -> Instrument:
    if isinstance(code_or_instrument, Instrument):
        if code_or_instrument.code not in _SCORERS:
            raise UnknownInstrument(code_or_instrument.code)
        return code_or_instrument
    return get_instrument(code_or_instrument)


# Scorers -----------------------------------------------------------------------


def _summed_total(instrument: Instrument, values: Mapping[str, int]) -> int:
    return sum(
        item.points(values[item.link_id])
        for item in instrument.items
        if item.in_total and item.link_id in values
    )


def _severity(instrument: Instrument, total: int) -> Severity | None:
    if not instrument.bands:
        return None
    for band in instrument.bands:
        if band.lowest <= total <= band.highest:
            return band.severity
    raise LookupError(f"{instrument.code}: no severity band contains total {total}")


def _summed_score(
    instrument: Instrument,
    values: Mapping[str, int],
    *,
    total: int | None = None,
    flags: tuple[ScoreFlag, ...] = (),
    subscales: dict[str, int] | None = None,
) -> Score:
    """Total, published band and the suicide-item alert, shared by every summed instrument."""
    if total is None:
        total = _summed_total(instrument, values)
    safety_alert = False
    suicide_item = SUICIDE_ITEMS.get(instrument.code)
    if (
        suicide_item is not None
        and values[suicide_item.link_id] >= suicide_item.alert_min
    ):
        flags = (suicide_item.flag, *flags)
        safety_alert = True
    return Score(
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        total=total,
        severity=_severity(instrument, total),
        flags=flags,
        subscales=subscales or {},
        safety_alert=safety_alert,
    )


def _score_plain_sum(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    return _summed_score(instrument, values)


def _score_phq2(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    total = _summed_total(instrument, values)
    positive = total >= PHQ2_POSITIVE_CUTOFF
    return _summed_score(
        instrument, values, flags=(ScoreFlag.PHQ2_POSITIVE,) if positive else ()
    )


def _score_gad2(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    total = _summed_total(instrument, values)
    positive = total >= GAD2_POSITIVE_CUTOFF
    return _summed_score(
        instrument, values, flags=(ScoreFlag.GAD2_POSITIVE,) if positive else ()
    )


def _score_qids(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    domains = {
        name: max(
            values[link_id]
            for number in numbers
            if (link_id := f"{instrument.code}-{number}") in values
        )
        for name, numbers in QIDS_DOMAINS
    }
    return _summed_score(
        instrument, values, total=sum(domains.values()), subscales=domains
    )


def _score_cssrs(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    levels = [
        level
        for link_id, level in CSSRS_TRIAGE_BY_YES_ITEM.items()
        if values.get(link_id) == YES.value
    ]
    triage = max(levels, key=_TRIAGE_ORDER.index, default=Triage.NONE)
    return Score(
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        total=None,
        severity=None,
        flags=(ScoreFlag.CSSRS_POSITIVE,) if triage is not Triage.NONE else (),
        triage=triage,
        safety_alert=triage in CSSRS_ALERT_TRIAGE,
    )


def _score_pcl5(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    subscales: dict[str, int] = {}
    pattern_met = True
    for name, numbers, endorsed_needed in PCL5_CLUSTERS:
        cluster_values = [values[f"{instrument.code}-{number}"] for number in numbers]
        subscales[name] = sum(cluster_values)
        endorsed = sum(value >= PCL5_SYMPTOM_ENDORSED_MIN for value in cluster_values)
        pattern_met = pattern_met and endorsed >= endorsed_needed
    total = _summed_total(instrument, values)
    flags: list[ScoreFlag] = []
    if total >= PCL5_PROVISIONAL_PTSD_CUTOFF:
        flags.append(ScoreFlag.PCL5_PROVISIONAL_PTSD)
    if pattern_met:
        flags.append(ScoreFlag.PCL5_DSM5_SYMPTOM_PATTERN)
    return _summed_score(instrument, values, flags=tuple(flags), subscales=subscales)


def _score_mdq(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    yes_count = sum(values[link_id] == YES.value for link_id in MDQ_SYMPTOM_LINK_IDS)
    positive = (
        yes_count >= MDQ_SYMPTOM_CUTOFF
        and values["mdq-2"] == YES.value
        and values["mdq-3"] >= MDQ_IMPAIRMENT_POSITIVE_MIN
    )
    return _summed_score(
        instrument,
        values,
        total=yes_count,
        flags=(ScoreFlag.MDQ_POSITIVE,) if positive else (),
    )


def _score_audit_c(
    instrument: Instrument, values: Mapping[str, int], sex: Sex | None
) -> Score:
    assert sex is not None  # validated before scoring: sex_specific_cutoffs
    total = _summed_total(instrument, values)
    positive = total >= AUDIT_C_POSITIVE_CUTOFFS[sex]
    return _summed_score(
        instrument, values, flags=(ScoreFlag.AUDIT_C_POSITIVE,) if positive else ()
    )


_Scorer = Callable[[Instrument, Mapping[str, int], Sex | None], Score]

_SCORERS: Mapping[str, _Scorer] = MappingProxyType(
    {
        InstrumentCode.PHQ9: _score_plain_sum,
        InstrumentCode.PHQ2: _score_phq2,
        InstrumentCode.GAD7: _score_plain_sum,
        InstrumentCode.QIDS_SR16: _score_qids,
        InstrumentCode.MADRS: _score_plain_sum,
        InstrumentCode.CSSRS_SCREENER: _score_cssrs,
        InstrumentCode.PCL5: _score_pcl5,
        InstrumentCode.MDQ: _score_mdq,
        InstrumentCode.AUDIT_C: _score_audit_c,
        InstrumentCode.DAST10: _score_plain_sum,
        InstrumentCode.CADSS6: _score_plain_sum,
        InstrumentCode.PHQ8: _score_plain_sum,
        InstrumentCode.GAD2: _score_gad2,
        InstrumentCode.HAMD17: _score_plain_sum,
    }
)


# Public ------------------------------------------------------------------------


def score(
    code_or_instrument: str | Instrument,
    answers: Mapping[str, object],
    *,
    sex: str | None = None,
) -> Score:
    """Validate a whole response and score it; `sex` is used only where cut-offs depend on it (AUDIT-C)."""
    instrument = _resolve(code_or_instrument)
    errors: list[ResponseError] = []
    values = _validated_values(instrument, answers, errors)
    valid_sex = _validated_sex(sex, errors) if instrument.sex_specific_cutoffs else None
    if errors:
        raise InvalidResponse(errors)
    return _SCORERS[instrument.code](instrument, values, valid_sex)


def answer_raises_safety_alert(
    code_or_instrument: str | Instrument, link_id: str, value: object
) -> bool:
    """Whether this one answer, on its own, already means `score()` will raise `safety_alert`.

    For evaluating item 9 as it is answered, before the form is finished
    (Source: C4, M10; docs/clinical/instruments.md).
    """
    instrument = _resolve(code_or_instrument)
    try:
        item = instrument.item(link_id)
    except KeyError:
        raise InvalidResponse(
            [
                ResponseError(
                    link_id,
                    f"{link_id!r} is not an item of {instrument.code}.",
                    ResponseErrorCode.UNKNOWN_ITEM,
                )
            ]
        ) from None
    error = _value_error(item, value)
    if error is not None:
        raise InvalidResponse([error])
    assert isinstance(value, int)  # checked by _value_error

    if instrument.code == InstrumentCode.CSSRS_SCREENER:
        return (
            value == YES.value
            and CSSRS_TRIAGE_BY_YES_ITEM[link_id] in CSSRS_ALERT_TRIAGE
        )
    suicide_item = SUICIDE_ITEMS.get(instrument.code)
    return (
        suicide_item is not None
        and suicide_item.link_id == link_id
        and value >= suicide_item.alert_min
    )
