"""Refusals of anonymous input (a bogus bearer token, a dead portal link) on the audit log, bounded.

Recording each refusal as its own event lets anyone append to the permanent log
without limit (30 bogus tokens made 30 events in under two seconds). Refusals
are counted per source address and window through the one rate limiter
(neuroclinic/lib/ratelimit.py) and recorded in aggregate: the first refusal from
a source in a window is recorded in full, then one event at the 10th, 100th,
1000th... with the count so far. So a source writes at most 1 + log10(n) events
per window, and is still on the record. Beyond FIRSTS_PER_WINDOW sources in a
window (an attacker rotating addresses), only the milestones of the count over
all sources are recorded.
"""

from typing import Any

from django.db import transaction

from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import current_source_ip, record
from neuroclinic.lib import ratelimit

WINDOW_SECONDS = 15 * 60
FIRSTS_PER_WINDOW = 100
ALL_SOURCES = "(all sources)"


def record_refusal(action: AuditEvent.Action, **data: Any) -> AuditEvent | None:
    """Count a refusal from the current request's address; record it when due.

    Returns the event written, or None when the refusal was only counted.
    """
    source = current_source_ip() or "unknown"
    scope = f"refused:{action.value}"
    mine = ratelimit.hit(scope, source, limit=0, window_seconds=WINDOW_SECONDS)
    everyone = ratelimit.hit(scope, ALL_SOURCES, limit=0, window_seconds=WINDOW_SECONDS)
    aggregate: dict[str, Any] = {"window_seconds": WINDOW_SECONDS}
    if mine.first and everyone.count <= FIRSTS_PER_WINDOW:
        pass
    elif not mine.first and ratelimit.milestone(mine.count):
        aggregate |= {"refusals_from_source": mine.count}
    elif everyone.count > FIRSTS_PER_WINDOW and ratelimit.milestone(everyone.count):
        aggregate |= {"refusals_from_all_sources": everyone.count}
    else:
        return None
    with transaction.atomic():
        return record(
            action,
            actor=None,
            outcome=AuditEvent.Outcome.DENIED,
            **(data | aggregate),
        )
