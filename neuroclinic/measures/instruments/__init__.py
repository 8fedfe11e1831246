"""Questionnaire instruments (PHQ-9, PHQ-2, GAD-7, QIDS-SR16, MADRS, C-SSRS screener,
PCL-5, MDQ, AUDIT-C, DAST-10, CADSS-6, PHQ-8, GAD-2, HAM-D17): definitions, validation and pure
scoring.

Sources: M1-M15, M18, M19 (instruments, LOINC codes) and M10, C4 (crisis triage), listed in
docs/sources.md; each instrument's citation is in `catalogue.py` and on its `source`.
Rules in prose, with worked examples: docs/clinical/instruments.md.

Pure package: standard library only, so it runs and is tested without Django.
Import from here: `from neuroclinic.measures.instruments import score, get_instrument`.
"""

from neuroclinic.measures.instruments.catalogue import (
    DEFINITION_VERSION,
    INSTRUMENTS,
    InstrumentCode,
    UnknownInstrument,
    get_instrument,
)
from neuroclinic.measures.instruments.model import (
    Band,
    EnableWhen,
    Instrument,
    Item,
    Option,
    Rater,
    Severity,
    Sex,
)
from neuroclinic.measures.instruments.scoring import (
    AUDIT_C_POSITIVE_CUTOFFS,
    CSSRS_ALERT_TRIAGE,
    CSSRS_TRIAGE_BY_YES_ITEM,
    GAD2_POSITIVE_CUTOFF,
    HAMD17_ITEM3_ALERT_MIN,
    MADRS_ITEM10_ALERT_MIN,
    MDQ_IMPAIRMENT_POSITIVE_MIN,
    MDQ_SYMPTOM_CUTOFF,
    PCL5_PROVISIONAL_PTSD_CUTOFF,
    PCL5_SYMPTOM_ENDORSED_MIN,
    PHQ2_POSITIVE_CUTOFF,
    PHQ9_ITEM9_ALERT_MIN,
    QIDS_ITEM12_ALERT_MIN,
    InvalidResponse,
    ResponseError,
    ResponseErrorCode,
    Score,
    ScoreFlag,
    Triage,
    answer_raises_safety_alert,
    score,
)

__all__ = [
    "AUDIT_C_POSITIVE_CUTOFFS",
    "CSSRS_ALERT_TRIAGE",
    "CSSRS_TRIAGE_BY_YES_ITEM",
    "DEFINITION_VERSION",
    "GAD2_POSITIVE_CUTOFF",
    "HAMD17_ITEM3_ALERT_MIN",
    "INSTRUMENTS",
    "MADRS_ITEM10_ALERT_MIN",
    "MDQ_IMPAIRMENT_POSITIVE_MIN",
    "MDQ_SYMPTOM_CUTOFF",
    "PCL5_PROVISIONAL_PTSD_CUTOFF",
    "PCL5_SYMPTOM_ENDORSED_MIN",
    "PHQ2_POSITIVE_CUTOFF",
    "PHQ9_ITEM9_ALERT_MIN",
    "QIDS_ITEM12_ALERT_MIN",
    "Band",
    "EnableWhen",
    "Instrument",
    "InstrumentCode",
    "InvalidResponse",
    "Item",
    "Option",
    "Rater",
    "ResponseError",
    "ResponseErrorCode",
    "Score",
    "ScoreFlag",
    "Severity",
    "Sex",
    "Triage",
    "UnknownInstrument",
    "answer_raises_safety_alert",
    "get_instrument",
    "score",
]
