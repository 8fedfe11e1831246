"""What every measures action shares: the refusal it raises and the alert each flag raises."""

from neuroclinic.measures.instruments import (
    ScoreFlag,
)
from neuroclinic.measures.models import (
    SafetyAlert,
)

PORTAL_LINK_HOURS = 72
KIOSK_LINK_MINUTES = 60
PORTAL_SALT = "neuroclinic.measures.portal-link"

# Which score flag raises which kind of alert (Source: M2, M10, C4 (docs/sources.md)).
ALERT_REASONS = {
    ScoreFlag.PHQ9_ITEM9_POSITIVE: SafetyAlert.Reason.PHQ9_ITEM9,
    ScoreFlag.QIDS_ITEM12_POSITIVE: SafetyAlert.Reason.QIDS_ITEM12,
    ScoreFlag.MADRS_ITEM10_POSITIVE: SafetyAlert.Reason.MADRS_ITEM10,
    ScoreFlag.HAMD17_ITEM3_POSITIVE: SafetyAlert.Reason.HAMD17_ITEM3,
    ScoreFlag.CSSRS_POSITIVE: SafetyAlert.Reason.CSSRS,
}
# Which alert an instrument's suicide item or screen raises.
INSTRUMENT_ALERT_REASONS = {
    "phq9": SafetyAlert.Reason.PHQ9_ITEM9,
    "qids-sr16": SafetyAlert.Reason.QIDS_ITEM12,
    "madrs": SafetyAlert.Reason.MADRS_ITEM10,
    "hamd17": SafetyAlert.Reason.HAMD17_ITEM3,
    "cssrs-screener": SafetyAlert.Reason.CSSRS,
}
# A structured risk assessment must say something about each of these
# (Joint Commission NPSG 15.01.01; Source: C1).
ASSESSMENT_FIELDS = ("ideation", "plan", "intent", "behaviors", "protective_factors")


class MeasuresError(Exception):
    """A refused request, with a message for the person who made it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PortalLinkInvalid(MeasuresError):
    pass
