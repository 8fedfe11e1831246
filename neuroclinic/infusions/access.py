"""The one door to an infusion session: through the patient's visibility (404), then the role (403)."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.infusions.models import InfusionSession
from neuroclinic.patients.models import Patient


def get_session_for_user(
    user: User, session_uuid: uuid.UUID | str, *, capability: Capability
) -> InfusionSession:
    """A session of a patient this user may see (else 404), if the role allows `capability` (else 403).

    Not-found and another clinic's session look the same, so ids cannot be probed.
    """
    try:
        session = (
            _visible_sessions(user)
            .select_related(
                "patient",
                "location",
                "room",
                "order__protocol",
                "order__signed_by",
                "plan__induction_protocol",
                "nurse",
                "organization",
            )
            .get(uuid=session_uuid)
        )
    except (InfusionSession.DoesNotExist, ValueError):
        raise Http404("No such infusion.") from None
    if not user.can(capability):
        raise PermissionDenied
    return session


def _visible_sessions(user: User) -> "QuerySet[InfusionSession]":
    return InfusionSession.objects.filter(patient__in=Patient.objects.visible_to(user))


def lock_session_row_for_user(
    user: User,
    session_uuid: uuid.UUID | str,
    *,
    capability: Capability,
    related: Sequence[str] = (),
    only: Sequence[str] = (),
    annotations: Mapping[str, Any] | None = None,
) -> InfusionSession:
    """As `get_session_for_user`, the session's own row locked for the caller's transaction.

    One statement for the check and the lock (the monitor feed, once per
    request): the session of a patient this user may see, locked (`FOR UPDATE
    OF` the session only: the rows it is joined to are read, not locked), with
    the relations, columns and values the writer names (`related`, `only`,
    `annotations`); else 404; then the role, else 403. Every joined table
    costs the database time to plan the statement, and every column costs
    time to compile, send and convert, on every request: a writer names what
    it reads each time and loads the rest when it needs it.
    """
    sessions = _visible_sessions(user).select_for_update(of=("self",))
    if only:
        sessions = sessions.only(*only)
    try:
        session = (
            sessions.select_related(*related)
            .annotate(**(annotations or {}))
            .get(uuid=session_uuid)
        )
    except (InfusionSession.DoesNotExist, ValueError):
        raise Http404("No such infusion.") from None
    if not user.can(capability):
        raise PermissionDenied
    return session
