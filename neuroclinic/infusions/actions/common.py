"""What every infusion action shares: the session lock, the status check, the time an
entry happened, and the session's timeline."""

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.infusions.errors import InfusionError
from neuroclinic.infusions.models import DoseRecord, InfusionSession, SessionEvent
from neuroclinic.ledger.errors import LedgerError
from neuroclinic.lib.compiled import CompiledGet, CompiledObjects, CompiledRows

# Times a nurse enters (or a tablet replays after a dropped connection) may be this
# far behind; further back is a typing error, not a delayed send.
MAX_BACKDATE = timedelta(hours=12)
CLOCK_SKEW = timedelta(minutes=2)
ZERO = Decimal(0)


def when(
    session: InfusionSession,
    occurred_at: datetime | None,
    *,
    field: str = "occurred_at",
    now: datetime | None = None,
) -> datetime:
    """The time an entry happened: now, or a time the nurse (or a replaying tablet) gave,
    which must lie between the check-in and now."""
    now = now or timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise InfusionError("Give the time with its time zone.", field=field)
    if occurred_at > now + CLOCK_SKEW:
        raise InfusionError("That time is in the future.", field=field)
    if (
        occurred_at < now - MAX_BACKDATE
        or occurred_at < session.checked_in_at - CLOCK_SKEW
    ):
        raise InfusionError("That time is before this infusion began.", field=field)
    return occurred_at


PUMP_KINDS = (
    SessionEvent.Kind.STARTED,
    SessionEvent.Kind.PAUSED,
    SessionEvent.Kind.RESUMED,
    SessionEvent.Kind.RATE_CHANGED,
    SessionEvent.Kind.STOPPED,
)


# When the pump's last step was: compiled once per connection (lib.compiled).
_LAST_PUMP_STEP = CompiledRows(
    lambda session_id: (
        SessionEvent.objects.filter(session_id=session_id, kind__in=PUMP_KINDS)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at")[:1]
    )
)


def pump_time(
    session: InfusionSession,
    occurred_at: datetime | None,
    *,
    reason: str,
    doing: str,
    field: str = "occurred_at",
    now: datetime | None = None,
) -> datetime:
    """The time of a pump step: possible (after the check-in and after the pump's last
    step, not in the future) and, when entered later than the clinic's window
    (INFUSION_BACKDATE_REASON_MINUTES), explained."""
    now = now or timezone.now()
    at = when(session, occurred_at, field=field, now=now)
    if at < session.checked_in_at:
        raise InfusionError(
            f"Cannot {doing} before the check-in ({session.checked_in_at:%H:%M} UTC).",
            field=field,
        )
    last = next(iter(_LAST_PUMP_STEP.rows(session.pk)), (None,))[0]
    if last is not None and at < last:
        raise InfusionError(
            f"Cannot {doing} at {at:%H:%M:%S} UTC: the pump's last step was at "
            f"{last:%H:%M:%S} UTC.",
            field=field,
        )
    window = timedelta(minutes=settings.INFUSION_BACKDATE_REASON_MINUTES)
    if now - at > window and not reason.strip():
        raise InfusionError(
            f"That time is more than {settings.INFUSION_BACKDATE_REASON_MINUTES} "
            "minutes ago: say why it is entered late.",
            field="reason",
        )
    return at


# Compiled once per connection (lib.compiled): the six related tables made compiling
# this statement most of every infusion action's lock (issue 18, item 10).
LOCKED_SESSION_RELATED = (
    "patient",
    "location",
    "room",
    "order__protocol",
    "order__signed_by",
    "plan__induction_protocol",
)
_locked_session = CompiledGet(
    lambda: InfusionSession.objects.select_for_update(of=("self",)).select_related(
        *LOCKED_SESSION_RELATED
    )
)


def lock_session(session: InfusionSession) -> InfusionSession:
    return _locked_session(session.pk)


def require_status(session: InfusionSession, *statuses: str, doing: str) -> None:
    if session.status not in statuses:
        raise InfusionError(
            f"Cannot {doing}: the infusion is {session.get_status_display().lower()}.",
            field="status",
        )


def timeline_event(
    session: InfusionSession,
    kind: SessionEvent.Kind,
    *,
    at: datetime,
    reason: str = "",
    rate: Decimal | None = None,
    client_key: uuid.UUID | None = None,
    data: Mapping[str, object] | None = None,
    by: User,
) -> SessionEvent:
    """A line on the session's timeline; `data` is what the line shows (decimals as text)."""
    return SessionEvent.objects.create(
        session=session,
        kind=kind,
        occurred_at=at,
        by=by,
        reason=reason[:300],
        rate_ml_per_hour=rate,
        data={
            k: str(v) if isinstance(v, Decimal) else v for k, v in (data or {}).items()
        },
        client_key=client_key,
    )


def replayed(client_key: uuid.UUID | None) -> bool:
    return (
        client_key is not None
        and SessionEvent.objects.filter(client_key=client_key).exists()
    )


class SessionRows[M: models.Model]:
    """A session's rows of one kind (`build(session_id)`, a queryset of a model with a
    `session` foreign key), compiled once per connection (lib.compiled) and given as
    `session.<related>` gives them: each row's `session` is the session asked about."""

    def __init__(self, build: Callable[[int], "models.QuerySet[M]"]) -> None:
        self._compiled = CompiledObjects(build)

    def all(self, session: InfusionSession) -> list[M]:
        rows = self._compiled.all(session.pk)
        for row in rows:
            field = row._meta.get_field("session")
            assert isinstance(field, models.ForeignKey)
            field.set_cached_value(row, session)
        return rows

    def first(self, session: InfusionSession) -> M | None:
        rows = self.all(session)
        return rows[0] if rows else None


# The newest dose: read by most infusion actions, again under each one's lock.
_current_dose = SessionRows(
    lambda session_id: DoseRecord.objects.filter(session_id=session_id).order_by(
        "-calculated_at", "-id"
    )[:1]
)


def current_dose(session: InfusionSession) -> DoseRecord | None:
    return _current_dose.first(session)


def ledger_error(exc: LedgerError) -> InfusionError:
    return InfusionError(exc.message, field=exc.field.split(".")[0])


def reason_given(reason: str, *, doing: str) -> str:
    if not reason.strip():
        raise InfusionError(f"Say why you {doing}.", field="reason")
    return reason.strip()


def require_open(session: InfusionSession, *, doing: str) -> None:
    require_status(
        session,
        InfusionSession.Status.CHECKED_IN,
        InfusionSession.Status.RUNNING,
        InfusionSession.Status.PAUSED,
        InfusionSession.Status.RECOVERY,
        doing=doing,
    )


def already_sent[M: models.Model](
    model: type[M], session: InfusionSession, client_key: uuid.UUID | None
) -> M | None:
    """The row a tablet already sent under this key: a resend after a dropped
    connection returns it instead of charting the event twice."""
    if client_key is None:
        return None
    return model._default_manager.filter(client_key=client_key, session=session).first()
