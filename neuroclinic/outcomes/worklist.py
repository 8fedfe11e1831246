"""Reads: the prescribers' booster worklist (open suggestions by urgency, recent decisions).

Two indexed queries of plain values (no model instance per row): the open suggestions
first due first (index `booster_worklist`), at most `OPEN_LIMIT`, and the latest
decisions (partial index `booster_decided`). Each suggestion's urgency is judged on the
clinic's today under the rule values it was made with (`boosters.urgency_on`); only the
two day counts that judgement needs are read out of the stored rules, in SQL.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db.models.fields.json import KT

from neuroclinic.outcomes.boosters import Urgency, urgency_on
from neuroclinic.outcomes.models import BoosterSuggestion

OPEN_LIMIT = 500
DECIDED_LIMIT = 50
DEFAULT_DAYS = 7  # a suggestion whose stored rules lack a day count (as urgency_today)


@dataclass(frozen=True)
class OpenRow:
    uuid: UUID
    due_on: date
    last_infusion_on: date
    basis: list[dict[str, Any]]
    rules_version: int
    family_name: str
    given_name: str
    mrn: str
    urgency: Urgency


@dataclass(frozen=True)
class DecidedRow:
    uuid: UUID
    due_on: date
    status: str
    status_label: str
    decided_by: str
    decided_at: datetime | None
    decision_note: str
    booked: bool
    family_name: str
    given_name: str
    mrn: str


def _days(value: Any) -> int:
    return DEFAULT_DAYS if value is None else int(value)


def open_suggestions(organization_id: int, today: date) -> list[OpenRow]:
    """The open suggestions, first due first (at most OPEN_LIMIT), with today's urgency."""
    rows = (
        BoosterSuggestion.objects.filter(
            organization_id=organization_id, status=BoosterSuggestion.Status.OPEN
        )
        .order_by("due_on", "id")
        .annotate(
            due_soon_days=KT("rules__due_soon_days"),
            overdue_after_days=KT("rules__overdue_after_days"),
        )
        .values_list(
            "uuid",
            "due_on",
            "last_infusion_on",
            "basis",
            "rules_version",
            "patient__family_name",
            "patient__given_name",
            "patient__mrn",
            "due_soon_days",
            "overdue_after_days",
        )[:OPEN_LIMIT]
    )
    return [
        OpenRow(
            uuid=uuid,
            due_on=due_on,
            last_infusion_on=last_infusion_on,
            basis=basis,
            rules_version=rules_version,
            family_name=family,
            given_name=given,
            mrn=mrn,
            urgency=urgency_on(
                due_on,
                today,
                due_soon_days=_days(soon),
                overdue_after_days=_days(overdue),
            ),
        )
        for (
            uuid,
            due_on,
            last_infusion_on,
            basis,
            rules_version,
            family,
            given,
            mrn,
            soon,
            overdue,
        ) in rows
    ]


def recent_decisions(organization_id: int) -> list[DecidedRow]:
    """The latest decided suggestions, newest first (at most DECIDED_LIMIT)."""
    labels = dict(BoosterSuggestion.Status.choices)
    rows = (
        BoosterSuggestion.objects.filter(organization_id=organization_id)
        .exclude(status=BoosterSuggestion.Status.OPEN)
        .order_by("-decided_at", "-id")
        .values_list(
            "uuid",
            "due_on",
            "status",
            "decided_by__username",
            "decided_at",
            "decision_note",
            "appointment_id",
            "patient__family_name",
            "patient__given_name",
            "patient__mrn",
        )[:DECIDED_LIMIT]
    )
    return [
        DecidedRow(
            uuid=uuid,
            due_on=due_on,
            status=status,
            status_label=labels.get(status, status),
            decided_by=username or "",
            decided_at=decided_at,
            decision_note=note,
            booked=appointment_id is not None,
            family_name=family,
            given_name=given,
            mrn=mrn,
        )
        for (
            uuid,
            due_on,
            status,
            username,
            decided_at,
            note,
            appointment_id,
            family,
            given,
            mrn,
        ) in rows
    ]
