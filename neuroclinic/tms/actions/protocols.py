"""The clinic's TMS protocols: drafted from the cited defaults or as a new version of a
signed one, signed by the medical director, versioned (docs/tms.md, "Protocol versions").

A draft may change until it is signed; a signed version never changes, on any path:
these actions refuse it (`SignedProtocolError`) and a database trigger refuses a raw
UPDATE. The family's newest signed version is the one the clinic orders under.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.tms import protocols
from neuroclinic.tms.actions.common import now_or
from neuroclinic.tms.errors import TmsError
from neuroclinic.tms.models import TmsProtocol
from neuroclinic.treatment.actions.signatures import confirm_signature, content_hash
from neuroclinic.treatment.errors import TreatmentError

# The settings a version may change (everything clinical; not its code or pattern's identity).
SETTINGS = (
    "name",
    "pattern",
    "pulses_per_train",
    "train_seconds",
    "inter_train_seconds",
    "trains_per_session",
    "percent_of_mt",
    "max_percent_of_mt",
    "sessions_per_day",
    "min_interval_minutes",
    "treatment_days_per_week",
    "acute_weeks",
    "taper_sessions_by_week",
    "max_makeup_sessions",
)
_DECIMALS = {
    "train_seconds",
    "inter_train_seconds",
    "percent_of_mt",
    "max_percent_of_mt",
}


class SignedProtocolError(TmsError):
    """A change to a signed version: refused (the API answers 409)."""


def _with_changes(
    base: protocols.ProtocolParameters, changes: Mapping[str, Any]
) -> protocols.ProtocolParameters:
    """The base settings with the changes, each parsed; a bad value is a field error."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in SETTINGS:
            errors[name] = [f"Unknown protocol setting {name!r}."]
            continue
        try:
            if name in _DECIMALS:
                number = Decimal(str(value))
                if not number.is_finite():
                    raise InvalidOperation
                # % MT is recorded to 0.1 and seconds to 0.01 (a course's columns).
                places = 1 if "percent" in name else 2
                if number != number.quantize(Decimal(1).scaleb(-places)):
                    raise InvalidOperation
                values[name] = number
            elif name == "name":
                values[name] = str(value).strip()[:100]
            elif name == "pattern":
                values[name] = protocols.Pattern(value)
            elif name == "acute_weeks":
                low, high = value
                values[name] = (int(low), int(high))
            elif name == "taper_sessions_by_week":
                values[name] = tuple(int(n) for n in value)
            else:
                if isinstance(value, bool) or int(value) != value:
                    raise ValueError
                values[name] = int(value)
        except (InvalidOperation, TypeError, ValueError):
            errors[name] = ["Not a valid value for this setting."]
    if errors:
        raise TmsError(next(iter(errors.values()))[0], errors=errors)
    return replace(base, **values)


def _check(parameters: protocols.ProtocolParameters) -> None:
    problems = protocols.validate(parameters)
    if problems:
        raise TmsError(
            next(iter(problems.values())),
            errors={field: [message] for field, message in problems.items()},
        )


def latest_signed(organization_id: int, code: str) -> TmsProtocol | None:
    """The version the clinic orders under: the family's newest signed one."""
    return (
        TmsProtocol.objects.filter(
            organization_id=organization_id, code=code, signed_at__isnull=False
        )
        .select_related("signed_by")
        .order_by("-version")
        .first()
    )


def orderable(organization_id: int) -> list[TmsProtocol]:
    """Every protocol's newest signed version, by name."""
    newest: dict[str, TmsProtocol] = {}
    for row in (
        TmsProtocol.objects.filter(
            organization_id=organization_id, signed_at__isnull=False
        )
        .select_related("signed_by")
        .order_by("code", "-version")
    ):
        newest.setdefault(row.code, row)
    return sorted(newest.values(), key=lambda p: (p.name, p.code))


def status(version: TmsProtocol) -> str:
    """draft, active (the newest signed) or superseded."""
    if not version.is_signed:
        return "draft"
    later = TmsProtocol.objects.filter(
        family=version.family, version__gt=version.version, signed_at__isnull=False
    ).exists()
    return "superseded" if later else "active"


@transaction.atomic
def draft_protocol(
    organization: Organization,
    *,
    code: str | None = None,
    base: TmsProtocol | None = None,
    changes: Mapping[str, Any] | None = None,
    change_note: str = "",
    now: datetime | None = None,
    by: User,
) -> TmsProtocol:
    """A new draft: a cited default (`code`) the clinic has no version of yet, or the next
    version of `base`'s family, with the changes."""
    if base is not None:
        if base.organization_id != organization.pk:
            raise TmsError("That protocol belongs to another clinic.", field="base")
        start = protocols.from_snapshot(base.parameters)
        code = base.code
        family = base.family
        version = (
            TmsProtocol.objects.filter(family=family).aggregate(v=Max("version"))["v"]
            or 0
        ) + 1
    else:
        try:
            start = protocols.protocol(code or "")
        except protocols.ProtocolError as exc:
            raise TmsError(exc.message, field="code") from None
        if TmsProtocol.objects.filter(
            organization_id=organization.pk, code=start.code
        ).exists():
            raise TmsError(
                f"The clinic already has {start.name}: draft a new version of it.",
                field="code",
            )
        code = start.code
        family = None
        version = 1
    parameters = _with_changes(start, changes or {})
    _check(parameters)
    draft = TmsProtocol(
        organization=organization,
        code=code,
        version=version,
        name=parameters.name,
        parameters=protocols.snapshot(parameters),
        change_note=change_note.strip()[:2000],
        created_by=by,
        created_at=now_or(now),
    )
    if family is not None:
        draft.family = family
    draft.save(force_insert=True)
    record(
        AuditEvent.Action.TMS_PROTOCOL_DRAFTED,
        actor=by,
        subject=draft,
        organization=organization,
        code=code,
        version=version,
        changed=sorted((changes or {}).keys()),
    )
    return draft


@transaction.atomic
def change_draft(
    draft: TmsProtocol,
    *,
    changes: Mapping[str, Any],
    change_note: str | None = None,
    by: User,
) -> TmsProtocol:
    """Change an unsigned draft. A signed version is refused: it never changes."""
    draft = TmsProtocol.objects.select_for_update().get(pk=draft.pk)
    if by.organization_id != draft.organization_id:
        raise TmsError("That protocol belongs to another clinic.")
    if draft.is_signed:
        raise SignedProtocolError(
            f"Version {draft.version} of {draft.name} is signed and never changes: "
            "draft a new version."
        )
    parameters = _with_changes(protocols.from_snapshot(draft.parameters), changes)
    _check(parameters)
    # A draft is edited in place (decision tms10d): its small history is the audit
    # event of each edit, with the settings it changed from and to.
    before = dict(draft.parameters)
    after = protocols.snapshot(parameters)
    moved = sorted(k for k in after if before.get(k) != after[k])
    draft.name = parameters.name
    draft.parameters = after
    fields = ["name", "parameters"]
    if change_note is not None:
        draft.change_note = change_note.strip()[:2000]
        fields.append("change_note")
    draft.save(update_fields=fields)
    record(
        AuditEvent.Action.TMS_PROTOCOL_EDITED,
        actor=by,
        subject=draft,
        organization=draft.organization,
        version=draft.version,
        changed=sorted(changes.keys()),
        before={k: before.get(k) for k in moved},
        after={k: after[k] for k in moved},
    )
    return draft


def protocol_content(version: TmsProtocol) -> dict[str, Any]:
    return {
        "code": version.code,
        "family": str(version.family),
        "version": version.version,
        "name": version.name,
        "parameters": version.parameters,
        "change_note": version.change_note,
    }


def sign_protocol(
    version: TmsProtocol, *, password: str, now: datetime | None = None, by: User
) -> TmsProtocol:
    """The medical director signs a draft, by name and password; it supersedes the
    family's signed version, which stays as it was for the courses ordered under it."""
    if Role.MEDICAL_DIRECTOR not in by.roles:
        raise TmsError("Only the medical director signs TMS protocols.")
    if by.organization_id != version.organization_id:
        raise TmsError("That protocol belongs to another clinic.")
    # Outside the signing transaction, so a refused signature stays on the audit log.
    try:
        confirm_signature(password, what=f"TMS protocol {version.uuid}", by=by)
    except TreatmentError as exc:
        raise TmsError(exc.message, field="password") from None
    return _sign(version, now=now, by=by)


@transaction.atomic
def _sign(version: TmsProtocol, *, now: datetime | None, by: User) -> TmsProtocol:
    version = TmsProtocol.objects.select_for_update().get(pk=version.pk)
    if version.is_signed:
        raise SignedProtocolError(
            f"Version {version.version} is already signed: it never changes."
        )
    previous = latest_signed(version.organization_id, version.code)
    if previous is not None and previous.version > version.version:
        raise TmsError(
            f"Version {previous.version} was signed after this draft was made: "
            "draft a new version from it."
        )
    version.supersedes = previous
    version.signed_by = by
    version.signed_at = now_or(now)
    version.content_sha256 = content_hash(protocol_content(version))
    version.save(
        update_fields=["supersedes", "signed_by", "signed_at", "content_sha256"]
    )
    record(
        AuditEvent.Action.TMS_PROTOCOL_SIGNED,
        actor=by,
        subject=version,
        organization=version.organization,
        code=version.code,
        version=version.version,
        content_sha256=version.content_sha256,
        supersedes_version=previous.version if previous else None,
    )
    return version


def install_default_protocols(
    organization: Organization,
    *,
    password: str,
    now: datetime | None = None,
    by: User,
) -> list[TmsProtocol]:
    """Draft and sign each cited default the clinic has no version of (a new clinic, the demo)."""
    made = []
    for code in protocols.DEFAULT_PROTOCOLS:
        if TmsProtocol.objects.filter(
            organization_id=organization.pk, code=code
        ).exists():
            continue
        draft = draft_protocol(organization, code=code, now=now, by=by)
        made.append(sign_protocol(draft, password=password, now=now, by=by))
    return made
