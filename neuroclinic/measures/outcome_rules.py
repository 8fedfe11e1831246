"""The clinic's outcome definitions, for every app that judges response and remission.

Response %, partial response %, the relapse rule and the remission maximum per scale
are the medical director's versioned settings (`measures.outcomes.OutcomeRules`). The
outcomes app stores and versions them (`BoosterRuleSet`, edited at `/outcomes/rules/`),
but measures and TMS sit below outcomes in the import layers and cannot import it. So
the rule definition is pure and lives here in measures, and the one reader of the
stored versions is named by its dotted path, as the chart panels and the trajectory
events are (`patients.chart_panels`, `measures.progress.TRAJECTORY_EVENT_SOURCES`):
every app asks `clinic_outcome_rules`, and only the outcomes app knows the table.

Pure callers (`tms.summary`, `measures.trajectory`) take the rules as an argument;
their callers read them here.
"""

from collections.abc import Callable
from datetime import datetime

from django.utils.module_loading import import_string

from neuroclinic.measures.outcomes import OutcomeRules

# Takes the clinic's id and `as_of` (None: now); returns the rules in force then.
OUTCOME_RULES_SOURCE = "neuroclinic.outcomes.episodes.outcome_rules_for"


def clinic_outcome_rules(
    organization_id: int, *, as_of: datetime | None = None
) -> OutcomeRules:
    """The clinic's outcome definitions in force at `as_of` (default: now): the newest
    version the medical director had saved by then, or the cited defaults."""
    read: Callable[..., OutcomeRules] = import_string(OUTCOME_RULES_SOURCE)
    return read(organization_id, as_of=as_of)
