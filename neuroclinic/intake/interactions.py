"""Medications that matter before ketamine or TMS: a name-matching flag table.

Pure module: standard library only. A patient types medication names as they
know them (generic or brand); each flag lists lower-case name fragments that
identify its drug class. A match is a flag for the prescriber, never a
decision. Sources: the ketamine label's drug interactions (K11) and TMS
screening (T8c, T9) (docs/sources.md); where the sources say nothing the
entry says so ([U]).
Rules in prose: docs/clinical/eligibility.md.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class MedicationFlag(StrEnum):
    BENZODIAZEPINE = "benzodiazepine"
    LAMOTRIGINE = "lamotrigine"
    MAOI = "maoi"
    THEOPHYLLINE = "theophylline"
    STIMULANT = "stimulant"
    OPIOID = "opioid"


@dataclass(frozen=True)
class FlagDefinition:
    flag: MedicationFlag
    label: str
    fragments: tuple[str, ...]
    concern: str
    source: str


FLAG_TABLE: tuple[FlagDefinition, ...] = (
    FlagDefinition(
        MedicationFlag.BENZODIAZEPINE,
        "Benzodiazepine",
        (
            "benzodiazepine",
            "alprazolam",
            "xanax",
            "lorazepam",
            "ativan",
            "clonazepam",
            "klonopin",
            "diazepam",
            "valium",
            "temazepam",
            "restoril",
            "chlordiazepoxide",
            "librium",
            "oxazepam",
            "triazolam",
            "halcion",
            "clobazam",
            "midazolam",
        ),
        "Profound sedation or respiratory depression and prolonged recovery with ketamine.",
        "Ketalar label drug interactions (K11) [V]",
    ),
    FlagDefinition(
        MedicationFlag.LAMOTRIGINE,
        "Lamotrigine",
        ("lamotrigine", "lamictal"),
        "Reported to blunt ketamine's effect [U]; anticonvulsants raise the TMS motor threshold.",
        "Medications raise MT (T8c) [V]; ketamine effect not in the sources [U]",
    ),
    FlagDefinition(
        MedicationFlag.MAOI,
        "MAO inhibitor",
        (
            "maoi",
            "phenelzine",
            "nardil",
            "tranylcypromine",
            "parnate",
            "isocarboxazid",
            "marplan",
            "selegiline",
            "emsam",
            "rasagiline",
            "azilect",
            "moclobemide",
        ),
        "Blood-pressure interactions with sympathomimetic effects; monitor vital signs.",
        "Label: sympathomimetics, monitor vitals (K11) [V]; MAOI class effect [U]",
    ),
    FlagDefinition(
        MedicationFlag.THEOPHYLLINE,
        "Theophylline / aminophylline",
        (
            "theophylline",
            "aminophylline",
            "theo-24",
            "uniphyl",
            "elixophyllin",
        ),
        "Lowers the seizure threshold: the ketamine label says do not co-administer.",
        "Ketalar label drug interactions (K11) [V]",
    ),
    FlagDefinition(
        MedicationFlag.STIMULANT,
        "Stimulant / sympathomimetic",
        (
            "amphetamine",
            "adderall",
            "lisdexamfetamine",
            "vyvanse",
            "methylphenidate",
            "ritalin",
            "concerta",
            "focalin",
            "modafinil",
            "provigil",
            "nuvigil",
            "phentermine",
            "pseudoephedrine",
            "sudafed",
        ),
        "Sympathomimetics raise blood pressure and heart rate: monitor vital signs; may lower seizure threshold (TMS).",
        "Label: sympathomimetics, monitor vitals (K11) [V]; seizure-threshold medicines (T9) [S]",
    ),
    FlagDefinition(
        MedicationFlag.OPIOID,
        "Opioid",
        (
            "opioid",
            "oxycodone",
            "oxycontin",
            "percocet",
            "hydrocodone",
            "vicodin",
            "norco",
            "morphine",
            "fentanyl",
            "tramadol",
            "codeine",
            "hydromorphone",
            "dilaudid",
            "methadone",
            "buprenorphine",
            "suboxone",
            "tapentadol",
            "oxymorphone",
        ),
        "Profound sedation or respiratory depression and prolonged recovery with ketamine.",
        "Ketalar label drug interactions (K11) [V]",
    ),
)

FLAGS_BY_CODE = {definition.flag: definition for definition in FLAG_TABLE}


def flags_for(name: str) -> list[MedicationFlag]:
    """Every flag whose drug-name fragment appears in this medication name."""
    text = name.lower()
    return [
        definition.flag
        for definition in FLAG_TABLE
        if any(fragment in text for fragment in definition.fragments)
    ]


def flag_medications(names: Iterable[str]) -> dict[MedicationFlag, list[str]]:
    """Flags raised by a medication list, each with the names that raised it, in table order."""
    found: dict[MedicationFlag, list[str]] = {}
    for name in names:
        for flag in flags_for(name):
            found.setdefault(flag, []).append(name)
    return {d.flag: found[d.flag] for d in FLAG_TABLE if d.flag in found}
