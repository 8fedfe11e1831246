"""The shape of a questionnaire: instruments, items, answer options, branching, bands.

Pure module: standard library only. Nothing here scores; `scoring.py` does that.
The thirteen instruments themselves are defined in `catalogue.py`; the rules are
written up in docs/clinical/instruments.md.

linkId scheme: `<instrument code>-<item number as printed on the published form>`,
with a lower-case letter suffix for a sub-question of a printed item
("cssrs-screener-6a" is item 6's "within the past 3 months?" follow-up, "mdq-1a" to
"mdq-1m" are the thirteen symptom questions printed under MDQ question 1).
The scheme never changes for a published instrument version; a linkId names the
same question for as long as records made under that version exist.
"""

from dataclasses import dataclass
from enum import StrEnum


class Rater(StrEnum):
    PATIENT = "patient"
    CLINICIAN = "clinician"


class Sex(StrEnum):
    """Sex as an input to scoring (AUDIT-C cut-offs differ); FHIR AdministrativeGender codes."""

    MALE = "male"
    FEMALE = "female"


class Severity(StrEnum):
    """Published band names across all instruments, snake_case.

    Each instrument uses its own subset: PHQ-9 and GAD-7 minimal..severe, QIDS-SR16
    none..very_severe, MADRS normal..severe, DAST-10 none..severe.
    """

    NONE = "none"
    NORMAL = "normal"
    MINIMAL = "minimal"
    LOW = "low"
    MILD = "mild"
    MODERATE = "moderate"
    MODERATELY_SEVERE = "moderately_severe"
    SUBSTANTIAL = "substantial"
    SEVERE = "severe"
    VERY_SEVERE = "very_severe"


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc_answer: str | None = None


@dataclass(frozen=True)
class EnableWhen:
    """The item is asked only when item `link_id` was answered with `answer` (FHIR enableWhen, operator "=")."""

    link_id: str
    answer: int


@dataclass(frozen=True)
class Item:
    """One question.

    `required` means "required whenever the item is asked": an item whose
    `enable_when` is not met is skipped, and must then be left unanswered.
    `in_total` is False for items the published rule leaves out of the total
    (PHQ-9 item 10, MDQ questions 2-5, every C-SSRS item).
    `reverse_scored` items count (lowest + highest option value - answer) toward
    the total instead of the answer itself (DAST-10 item 3: "no" counts 1).
    """

    link_id: str
    text: str
    required: bool
    loinc: str | None
    options: tuple[Option, ...]
    enable_when: EnableWhen | None = None
    in_total: bool = True
    reverse_scored: bool = False

    @property
    def option_values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    def points(self, value: int) -> int:
        """What an answer adds to the total, before any instrument-specific aggregation."""
        if not self.reverse_scored:
            return value
        values = self.option_values
        return min(values) + max(values) - value


@dataclass(frozen=True)
class Band:
    """A published severity band: totals from `lowest` to `highest`, both inclusive."""

    lowest: int
    highest: int
    severity: Severity


@dataclass(frozen=True)
class Instrument:
    """A questionnaire as published, plus what the clinic needs to show and code it.

    `version` is this definition's version: bump it whenever items, options or
    scoring change, so a stored response keeps the version it was scored under.
    `total_range` is the published (lowest, highest) total, or None when the
    instrument is not summed (C-SSRS screener).
    `required_one_of` lists groups of items of which at least one must be answered
    (QIDS-SR16 items 6/7 and 8/9: "complete either 6 or 7").
    `sex_specific_cutoffs` means `score()` needs the patient's sex (AUDIT-C).
    `collected` is False for an instrument kept only for results from elsewhere.
    `side_effect_scale` marks a scale of a treatment's side effects (CADSS-6: the
    dissociation an infusion causes), where "response" (a 50% fall from the first
    score) means nothing: its trajectory shows no response line, badge or change.
    """

    code: str
    name: str
    version: str
    recall_period: str
    source: str
    licence: str
    loinc_panel: str | None
    loinc_total: str | None
    rater: Rater
    items: tuple[Item, ...]
    wording_redistributable: bool
    preamble: str = ""
    total_range: tuple[int, int] | None = None
    bands: tuple[Band, ...] = ()
    required_one_of: tuple[tuple[str, ...], ...] = ()
    sex_specific_cutoffs: bool = False
    # False: the clinic never asks patients to fill it in (it only keeps results
    # from elsewhere, e.g. the PHQ-8, which leaves out the suicide item).
    collected: bool = True
    side_effect_scale: bool = False

    def item(self, link_id: str) -> Item:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise KeyError(link_id)
