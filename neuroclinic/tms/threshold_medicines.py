"""Medicines that can move the motor threshold: a chart change prompts a re-determination.

The motor threshold varies with medication: anticonvulsants, benzodiazepines,
antipsychotics and lithium raise it, so it is re-checked when these change (Source: T8c
(docs/sources.md)); the re-determination is billed as 90869 (B2). A medication name is
matched by lower-case fragments (generic and brand), as intake's interaction table does;
a match is a prompt for the technician and the physician, never a decision.

Pure module: standard library and intake's pure name table only.
"""

from dataclasses import dataclass

from neuroclinic.intake.interactions import FLAG_TABLE, MedicationFlag


@dataclass(frozen=True)
class MedicineClass:
    code: str
    label: str
    fragments: tuple[str, ...]


_BENZODIAZEPINES = next(
    d.fragments for d in FLAG_TABLE if d.flag == MedicationFlag.BENZODIAZEPINE
)

THRESHOLD_CLASSES: tuple[MedicineClass, ...] = (
    MedicineClass(
        "anticonvulsant",
        "anticonvulsant",
        (
            "anticonvulsant",
            "valpro",
            "divalproex",
            "depakote",
            "carbamazepine",
            "tegretol",
            "oxcarbazepine",
            "trileptal",
            "lamotrigine",
            "lamictal",
            "topiramate",
            "topamax",
            "gabapentin",
            "neurontin",
            "pregabalin",
            "lyrica",
            "levetiracetam",
            "keppra",
            "phenytoin",
            "dilantin",
            "phenobarbital",
            "lacosamide",
            "vimpat",
            "zonisamide",
        ),
    ),
    MedicineClass("benzodiazepine", "benzodiazepine", _BENZODIAZEPINES),
    MedicineClass(
        "antipsychotic",
        "antipsychotic",
        (
            "antipsychotic",
            "haloperidol",
            "haldol",
            "chlorpromazine",
            "perphenazine",
            "fluphenazine",
            "clozapine",
            "clozaril",
            "olanzapine",
            "zyprexa",
            "quetiapine",
            "seroquel",
            "risperidone",
            "risperdal",
            "paliperidone",
            "invega",
            "aripiprazole",
            "abilify",
            "brexpiprazole",
            "rexulti",
            "cariprazine",
            "vraylar",
            "ziprasidone",
            "geodon",
            "lurasidone",
            "latuda",
            "lumateperone",
            "caplyta",
            "asenapine",
            "iloperidone",
        ),
    ),
    MedicineClass("lithium", "lithium", ("lithium", "lithobid", "eskalith")),
)


def threshold_classes(medication_name: str) -> tuple[str, ...]:
    """The labels of the classes a medication name belongs to (empty: none that moves MT)."""
    name = medication_name.lower()
    return tuple(
        c.label for c in THRESHOLD_CLASSES if any(f in name for f in c.fragments)
    )
