"""What the TMS actions share: the acting-user checks and the session and course locks."""

from datetime import datetime

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.lib.compiled import CompiledGet
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsCourse, TmsSession


def now_or(now: datetime | None) -> datetime:
    return timezone.now() if now is None else now


def require_physician(user: User | None, organization_id: int, *, field: str) -> User:
    """A supervising or reviewing physician: a prescriber of this clinic (Source: T12b (docs/sources.md))."""
    if (
        user is None
        or not user.is_active
        or user.organization_id != organization_id
        or not user.can(Capability.ORDER_TMS)
    ):
        raise TmsError("Choose a physician of this clinic.", field=field)
    return user


# Compiled once per connection, as the infusion session's lock is (lib.compiled).
_locked_session = CompiledGet(
    lambda: TmsSession.objects.select_for_update().select_related(
        "course__location", "patient", "threshold"
    )
)


def lock_session(session: TmsSession) -> TmsSession:
    return _locked_session(session.pk)


_locked_course = CompiledGet(
    lambda: TmsCourse.objects.select_for_update().select_related("location", "patient")
)


def lock_course(course: TmsCourse) -> TmsCourse:
    """The course read again under its row lock, with its location and patient."""
    return _locked_course(course.pk)


def require_open(session: TmsSession, *, doing: str) -> None:
    if not session.is_open:
        raise TmsError(f"This session has ended: cannot {doing}.")
