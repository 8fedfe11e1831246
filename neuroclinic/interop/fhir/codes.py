"""Code systems and named codes for FHIR output, each code carrying its system URL.

Sources: LOINC (instrument panels, totals, item and answer codes; Source: M1-M6,
M10, M11, M13, M14 (docs/sources.md)), SNOMED CT, and the FHIR R4 (4.0.1) code
system URLs: https://hl7.org/fhir/R4/terminologies-systems.html.

Displays: a LOINC `display` is given only where the long common name was checked
against published FHIR examples (the five instrument totals, the vital signs of the
FHIR vital-signs profiles). Elsewhere the display is left out rather than guessed; a
Coding without a display is valid FHIR, and the Questionnaire's own `title` and item
`text` carry the words.

Local codes live under `LOCAL_BASE`, a placeholder canonical base (".example" is a
reserved domain) for the clinic's own CodeSystems and Questionnaires. Codes under it
are used only where no standard code was found, and docs/fhir.md lists them.

Pure module: standard library only.
"""

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# Code systems ------------------------------------------------------------------

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = (
    "http://terminology.hl7.org/CodeSystem/observation-category"
)
OBSERVATION_INTERPRETATION: Final = (
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
)

# Extensions --------------------------------------------------------------------

# The R4 and R4B name; R5 renamed it `itemWeight`. Context in R4: Coding and
# Questionnaire.item.answerOption. fhir.resources accepts any extension URL, so the
# tests check the URL themselves.
ORDINAL_VALUE_URL: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

# Local canonical base ------------------------------------------------------------

LOCAL_BASE: Final = "http://neuroclinic.example/fhir"
INSTRUMENT_SCORES: Final = f"{LOCAL_BASE}/CodeSystem/instrument-scores"
SEVERITY_BANDS: Final = f"{LOCAL_BASE}/CodeSystem/severity-bands"
CSSRS_TRIAGE: Final = f"{LOCAL_BASE}/CodeSystem/cssrs-triage"
CAPTURE_CHANNELS: Final = f"{LOCAL_BASE}/CodeSystem/capture-channel"


def local_answers_system(instrument_code: str) -> str:
    """CodeSystem for an instrument's answer options that have no LOINC answer code."""
    return f"{LOCAL_BASE}/CodeSystem/{instrument_code}-answers"


def questionnaire_url(instrument_code: str) -> str:
    return f"{LOCAL_BASE}/Questionnaire/{instrument_code}"


# Coding --------------------------------------------------------------------------


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str | None = None

    def as_dict(self) -> dict[str, str]:
        coding = {"system": self.system, "code": self.code}
        if self.display is not None:
            coding["display"] = self.display
        return coding


# Long common names checked against published FHIR examples; see the module docstring.
LOINC_DISPLAYS: Final = MappingProxyType(
    {
        "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
        "55758-7": "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]",
        "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
        "75626-2": "Total score [AUDIT-C]",
        "82667-7": "Total score [DAST-10]",
        "85353-1": "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel",
        "85354-9": "Blood pressure panel with all children optional",
        "8480-6": "Systolic blood pressure",
        "8462-4": "Diastolic blood pressure",
        "8867-4": "Heart rate",
        "9279-1": "Respiratory rate",
        "59408-5": "Oxygen saturation in Arterial blood by Pulse oximetry",
        "2708-6": "Oxygen saturation in Arterial blood",
        "29463-7": "Body weight",
        "8302-2": "Body height",
        "8310-5": "Body temperature",
    }
)


def loinc(code: str) -> Coding:
    """A LOINC Coding, with its display where one was checked (`LOINC_DISPLAYS`)."""
    return Coding(LOINC, code, LOINC_DISPLAYS.get(code))


# Observation categories and interpretations ----------------------------------------

SURVEY: Final = Coding(OBSERVATION_CATEGORY, "survey", "Survey")
VITAL_SIGNS: Final = Coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")
POSITIVE: Final = Coding(OBSERVATION_INTERPRETATION, "POS", "Positive")
NEGATIVE: Final = Coding(OBSERVATION_INTERPRETATION, "NEG", "Negative")

# Instruments (Source: M1-M6, M10, M11, M13, M14) -------------------------------------

PHQ9_PANEL: Final = loinc("44249-1")
PHQ9_TOTAL: Final = loinc("44261-6")
PHQ9_ITEM9: Final = loinc("44260-8")  # checked against LOINC answer list LL358-3 (M2)
PHQ9_DIFFICULTY: Final = loinc("69722-7")
PHQ2_PANEL: Final = loinc("55757-9")
PHQ2_TOTAL: Final = loinc("55758-7")
GAD7_PANEL: Final = loinc("69737-5")
GAD7_TOTAL: Final = loinc("70274-6")
AUDIT_C_PANEL: Final = loinc("72109-2")
AUDIT_C_TOTAL: Final = loinc("75626-2")
DAST10_PANEL: Final = loinc("82666-9")
DAST10_TOTAL: Final = loinc("82667-7")
PCL5_PANEL: Final = loinc("101697-1")  # panel only; no PCL-5 total code is verified

# PHQ answer list LL358-3 (Source: M2).
PHQ_NOT_AT_ALL: Final = Coding(LOINC, "LA6568-5", "Not at all")
PHQ_SEVERAL_DAYS: Final = Coding(LOINC, "LA6569-3", "Several days")
PHQ_MORE_THAN_HALF: Final = Coding(LOINC, "LA6570-1", "More than half the days")
PHQ_NEARLY_EVERY_DAY: Final = Coding(LOINC, "LA6571-9", "Nearly every day")

# SNOMED CT procedure "Depression screening using PHQ-9 score".
PHQ9_SCREENING_PROCEDURE: Final = Coding(SNOMED, "715252007")

# Vital signs (FHIR R4 vital-signs profiles) ---------------------------------------

VITAL_SIGNS_PANEL: Final = loinc("85353-1")
BLOOD_PRESSURE_PANEL: Final = loinc("85354-9")
SYSTOLIC_BP: Final = loinc("8480-6")
DIASTOLIC_BP: Final = loinc("8462-4")
HEART_RATE: Final = loinc("8867-4")
RESPIRATORY_RATE: Final = loinc("9279-1")
SPO2_PULSE_OXIMETRY: Final = loinc("59408-5")  # US Core pulse oximetry uses both
SPO2_ARTERIAL: Final = loinc("2708-6")
# End-tidal CO2: not a US Core vital sign, exported in the vital-signs category with
# no profile claimed (capnography is an ASA monitoring standard during sedation).
END_TIDAL_CO2: Final = loinc("19891-1")
BODY_WEIGHT: Final = loinc("29463-7")
BODY_HEIGHT: Final = loinc("8302-2")
BODY_TEMPERATURE: Final = loinc("8310-5")

# UCUM units for Quantity.code (system UCUM) ----------------------------------------

MM_HG: Final = "mm[Hg]"
PER_MINUTE: Final = "/min"
PERCENT: Final = "%"
KILOGRAM: Final = "kg"
CENTIMETRE: Final = "cm"
CELSIUS: Final = "Cel"
SCORE: Final = "{score}"
