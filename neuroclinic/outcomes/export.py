"""The de-identified research data set: tables, data dictionary, CSV and Parquet.

Rules in `deid.py` (HIPAA Safe Harbor, Source: P8). Built from an allow-list of coded
fields; nothing free-text leaves. One row per episode, infusion, score and outcome.
"""

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings

from neuroclinic.infusions.models import DoseRecord, InfusionSession
from neuroclinic.outcomes import deid
from neuroclinic.outcomes.episodes import load_episodes
from neuroclinic.treatment.models import TreatmentPlan

DICTIONARY: dict[str, dict[str, str]] = {
    "episodes": {
        "research_id": "Patient's research id (keyed hash; not reversible)",
        "episode": "Episode number for the patient (1 = first treatment plan)",
        "start_year": "Year of the episode's first infusion (blank for ages 90+)",
        "age": "Age in years at the first infusion; 90+ grouped",
        "sex_at_birth": "female, male, intersex or unknown",
        "diagnosis_codes": "ICD-10 codes of the plan's indication (free text removed)",
        "induction_infusions": "Induction infusions given",
        "boosters": "Booster infusions given",
        "ended_day": "Day the plan ended, relative to the first infusion (blank: ongoing)",
    },
    "infusions": {
        "research_id": "Patient's research id",
        "episode": "Episode number",
        "day": "Day relative to the patient's first infusion (day 0)",
        "kind": "induction or booster",
        "sequence": "Infusion number within the series",
        "dose_mg_per_kg": "Ordered dose, mg per kg",
        "dose_mg": "Calculated dose, mg (blank if none recorded)",
        "stopped_early": "Infusion stopped before the planned end",
    },
    "scores": {
        "research_id": "Patient's research id",
        "day": "Day relative to the patient's first infusion",
        "instrument": "Instrument code (phq9, gad7, madrs, qids-sr16, cadss6, ...)",
        "total": "Instrument total",
    },
    "outcomes": {
        "research_id": "Patient's research id",
        "episode": "Episode number",
        "instrument": "Instrument code",
        "status": "Latest status (docs/outcomes.md)",
        "baseline": "Baseline total",
        "nadir": "Lowest total after baseline",
        "latest": "Latest total",
        "change_percent": "Latest against baseline, percent (negative = better)",
        "response_day": "Day of first response",
        "remission_day": "Day of first remission",
        "relapse_day": "Day of first relapse",
    },
}


def _secret() -> bytes:
    return f"neuroclinic.outcomes.research:{settings.SECRET_KEY}".encode()


def _day(on: date | None, anchor: date) -> int | str:
    return "" if on is None else deid.relative_day(on, anchor)


def build_tables(organization_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every table of the export for one clinic, as rows of allowed fields only."""
    secret = _secret()
    plans = list(
        TreatmentPlan.objects.filter(organization_id=organization_id)
        .select_related("patient")
        .order_by("patient_id", "created_at", "id")
    )
    episodes = [e for e in load_episodes(plans) if e.first_infusion_at]
    anchors: dict[int, date] = {}
    numbers: dict[int, int] = {}
    tables: dict[str, list[dict[str, Any]]] = {k: [] for k in DICTIONARY}
    plan_numbers: dict[int, int] = {}
    for e in sorted(episodes, key=lambda e: (e.plan.patient_id, e.first_infusion_at)):
        assert e.first_infusion_at is not None
        patient = e.plan.patient
        rid = deid.research_id(str(patient.pk), secret=secret)
        first = e.first_infusion_at.date()
        anchor = anchors.setdefault(patient.pk, first)
        numbers[patient.pk] = numbers.get(patient.pk, 0) + 1
        number = numbers[patient.pk]
        plan_numbers[e.plan.pk] = number
        tables["episodes"].append(
            {
                "research_id": rid,
                "episode": number,
                "start_year": deid.year_or_none(first, patient.birth_date) or "",
                "age": deid.age_group(patient.birth_date, first),
                "sex_at_birth": patient.sex_at_birth or "unknown",
                "diagnosis_codes": deid.icd10_codes(e.plan.indication),
                "induction_infusions": len(e.plan.induction_dates),
                "boosters": e.plan.booster_count,
                "ended_day": _day(
                    e.plan.ended_at.date() if e.plan.ended_at else None, anchor
                ),
            }
        )
        for s in e.summaries():
            tables["outcomes"].append(
                {
                    "research_id": rid,
                    "episode": number,
                    "instrument": s.instrument_code,
                    "status": s.status.value,
                    "baseline": s.baseline.total if s.baseline else "",
                    "nadir": s.nadir.total if s.nadir else "",
                    "latest": s.latest.total if s.latest else "",
                    "change_percent": s.change_percent
                    if s.change_percent is not None
                    else "",
                    "response_day": _day(s.response_on, anchor),
                    "remission_day": _day(s.remission_on, anchor),
                    "relapse_day": _day(s.relapse_on, anchor),
                }
            )
        for code, scores in sorted(e.scores.items()):
            for score in scores:
                tables["scores"].append(
                    {
                        "research_id": rid,
                        "day": deid.relative_day(score.taken_at.date(), anchor),
                        "instrument": code,
                        "total": score.total,
                    }
                )
    by_plan = {e.plan.pk: e for e in episodes}
    doses = dict(
        DoseRecord.objects.filter(session__plan_id__in=list(by_plan))
        .order_by("session_id", "calculated_at")
        .values_list("session_id", "dose_mg")
    )
    for session in (
        InfusionSession.objects.filter(
            plan_id__in=list(by_plan), started_at__isnull=False
        )
        .select_related("order")
        .order_by("plan_id", "service_date", "id")
    ):
        e = by_plan[session.plan_id]
        patient_id = e.plan.patient_id
        tables["infusions"].append(
            {
                "research_id": deid.research_id(str(patient_id), secret=secret),
                "episode": plan_numbers[session.plan_id],
                "day": deid.relative_day(session.service_date, anchors[patient_id]),
                "kind": session.order.kind,
                "sequence": session.sequence_number,
                "dose_mg_per_kg": session.order.dose_mg_per_kg,
                "dose_mg": doses.get(session.pk, ""),
                "stopped_early": session.stopped_early,
            }
        )
    return tables


def to_csv(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def dictionary_csv() -> str:
    rows = [
        {"table": table, "column": column, "meaning": meaning}
        for table, columns in DICTIONARY.items()
        for column, meaning in columns.items()
    ]
    return to_csv(rows, ["table", "column", "meaning"])


def write(
    tables: dict[str, list[dict[str, Any]]], directory: Path, fmt: str
) -> list[Path]:
    """Write each table (csv or parquet) and the data dictionary (csv) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        columns = list(DICTIONARY[name])
        if fmt == "parquet":
            import pyarrow as pa  # type: ignore[import-untyped]
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            data = {
                c: [None if r[c] == "" else str(r[c]) for r in rows] for c in columns
            }
            path = directory / f"{name}.parquet"
            pq.write_table(pa.table(data), path)
        else:
            path = directory / f"{name}.csv"
            path.write_text(to_csv(rows, columns))
        written.append(path)
    dictionary = directory / "data_dictionary.csv"
    dictionary.write_text(dictionary_csv())
    return [*written, dictionary]
