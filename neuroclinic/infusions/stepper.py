"""Which step of an infusion the tablet screen opens (issue 18, item 3).

The screen is a stepper: the step the nurse is on is open, the steps before it are
collapsed into a one-line summary, the steps after it are not shown yet (the strip at
the top names them). This module only decides which step is current from what the
session already records; it decides nothing clinical (the actions refuse what is not
allowed, whatever the screen shows).
"""

from dataclasses import dataclass
from decimal import Decimal

STEPS: tuple[tuple[str, str], ...] = (
    ("check_in", "Check-in"),
    ("checklist", "Checklist"),
    ("dose", "Dose and draw"),
    ("running", "Infusion"),
    ("recovery", "Recovery"),
    ("discharge", "Discharge"),
    ("waste", "Waste"),
    ("note", "Note"),
)
KEYS = tuple(key for key, _ in STEPS)


@dataclass(frozen=True)
class Progress:
    status: str
    checklist_confirmed: bool
    ready_to_start: bool
    ready_for_discharge: bool
    outstanding_ml: Decimal


def current_step(progress: Progress) -> str | None:
    """The key of the step to open; None for a cancelled session (nothing to do)."""
    status = progress.status
    if status == "checked_in":
        if not progress.checklist_confirmed:
            return "checklist"
        return "running" if progress.ready_to_start else "dose"
    if status in ("running", "paused"):
        return "running"
    if status == "recovery":
        return "discharge" if progress.ready_for_discharge else "recovery"
    if status == "discharged":
        return "waste" if progress.outstanding_ml else "note"
    if status == "closed":
        return "note"
    return None


def step_states(current: str | None) -> dict[str, str]:
    """Each step's state: "done", "current" or "later" ("later" for all when cancelled)."""
    if current is None:
        return dict.fromkeys(KEYS, "later")
    at = KEYS.index(current)
    return {
        key: "done" if index < at else "current" if index == at else "later"
        for index, key in enumerate(KEYS)
    }
