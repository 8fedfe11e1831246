"""Every write to staff accounts goes through a function here.

Each runs in one transaction and records an audit event. Permission checks are
the caller's (views and API handlers check capabilities first).
"""

import copy
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts import otp_secrets
from neuroclinic.accounts.models import (
    ApiToken,
    Authenticator,
    RecoveryCode,
    RecoveryCodeSet,
    TokenScope,
    User,
    hash_token,
)
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.refusals import record_refusal

RECOVERY_CODE_COUNT = 10
TOKEN_PREFIX = "nc_"  # noqa: S105 - a label, not a secret


@transaction.atomic
def record_failed_sign_in(user: User | None, *, username: str, stage: str) -> bool:
    """Count a failed password or code; lock the account at the threshold.

    Returns True when this failure locked the account.
    """
    if user is None:
        record(
            AuditEvent.Action.SIGN_IN_FAILED,
            actor=None,
            actor_username=username,
            outcome=AuditEvent.Outcome.FAILURE,
            stage=stage,
            known_user=False,
        )
        return False
    user = User.objects.select_for_update().get(pk=user.pk)
    user.failed_sign_in_count += 1
    locked_now = user.failed_sign_in_count >= settings.LOCKOUT_THRESHOLD
    if locked_now:
        user.locked_until = timezone.now() + timedelta(minutes=settings.LOCKOUT_MINUTES)
        user.failed_sign_in_count = 0
    user.save(update_fields=["failed_sign_in_count", "locked_until"])
    record(
        AuditEvent.Action.SIGN_IN_FAILED,
        actor=user,
        subject=user,
        outcome=AuditEvent.Outcome.FAILURE,
        stage=stage,
    )
    if locked_now:
        record(
            AuditEvent.Action.LOCKED_OUT,
            actor=user,
            subject=user,
            outcome=AuditEvent.Outcome.DENIED,
            locked_until=user.locked_until,
        )
        _revoke_all_tokens(user, by=user, reason="locked out")
    return locked_now


@transaction.atomic
def record_locked_attempt(user: User, *, stage: str) -> None:
    """A sign-in tried while the account is locked: refused, not counted, but on the record."""
    record(
        AuditEvent.Action.SIGN_IN_FAILED,
        actor=user,
        subject=user,
        outcome=AuditEvent.Outcome.DENIED,
        stage=stage,
        locked=True,
    )


@transaction.atomic
def record_sign_in(user: User, *, method: str) -> None:
    User.objects.filter(pk=user.pk).update(failed_sign_in_count=0, locked_until=None)
    record(AuditEvent.Action.SIGNED_IN, actor=user, subject=user, method=method)


@transaction.atomic
def record_sign_out(user: User) -> None:
    record(AuditEvent.Action.SIGNED_OUT, actor=user, subject=user)


def pending_totp_device(user: User) -> Authenticator:
    """The user's unconfirmed authenticator, made on first need (enrolment)."""
    device: Authenticator | None = (
        Authenticator.objects.filter(user=user, confirmed=False).order_by("id").first()
    )
    if device is None:
        device = Authenticator.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    return device


@transaction.atomic
def confirm_totp_enrolment(user: User, device: Authenticator) -> list[str]:
    """Confirm the authenticator and issue fresh recovery codes (returned once)."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    Authenticator.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _issue_recovery_codes(user)
    record(AuditEvent.Action.TWO_FACTOR_ENROLLED, actor=user, subject=user)
    return codes


def _issue_recovery_codes(user: User) -> list[str]:
    """Fresh codes, shown once; only their digests are kept (otp_secrets.py)."""
    RecoveryCodeSet.objects.filter(user=user).delete()
    code_set = RecoveryCodeSet.objects.create(
        user=user, name="Recovery codes", confirmed=True
    )
    codes = [otp_secrets.new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(code_set=code_set, digest=otp_secrets.recovery_code_digest(c))
        for c in codes
    )
    return codes


@transaction.atomic
def record_recovery_code_used(user: User) -> None:
    left = RecoveryCode.objects.filter(code_set__user=user).count()
    record(
        AuditEvent.Action.RECOVERY_CODE_USED, actor=user, subject=user, codes_left=left
    )


@transaction.atomic
def change_password(user: User, *, new_password: str) -> None:
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record(AuditEvent.Action.PASSWORD_CHANGED, actor=user, subject=user)


@transaction.atomic
def create_user(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    title: str,
    roles: Iterable[Role],
    password: str,
    by: User,
) -> User:
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        title=title,
        organization_id=by.organization_id,
    )
    user.set_password(password)
    user.save()
    role_list = sorted(set(roles))
    user.groups.set(Group.objects.filter(name__in=role_list))
    record(
        AuditEvent.Action.USER_CREATED,
        actor=by,
        subject=user,
        username=username,
        roles=role_list,
    )
    return user


@transaction.atomic
def update_user(
    user: User,
    *,
    first_name: str,
    last_name: str,
    email: str,
    title: str,
    is_active: bool,
    roles: Iterable[Role],
    by: User,
) -> User:
    old = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "title": user.title,
        "is_active": user.is_active,
    }
    new = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "title": title,
        "is_active": is_active,
    }
    changed = {k: {"old": old[k], "new": v} for k, v in new.items() if old[k] != v}
    if changed:
        for key, value in new.items():
            setattr(user, key, value)
        user.save(update_fields=list(new))
        record(
            AuditEvent.Action.USER_UPDATED,
            actor=by,
            subject=user,
            changes=changed,
        )
        if not is_active:
            _revoke_all_tokens(user, by=by, reason="deactivated")
    old_roles = sorted(g.name for g in user.groups.all())
    new_roles = sorted({str(r) for r in roles})
    if old_roles != new_roles:
        user.groups.set(Group.objects.filter(name__in=new_roles))
        record(
            AuditEvent.Action.ROLES_CHANGED,
            actor=by,
            subject=user,
            old=old_roles,
            new=new_roles,
        )
    user.__dict__.pop("roles", None)
    user.__dict__.pop("capabilities", None)
    if changed or old_roles != new_roles:
        transaction.on_commit(forget_api_tokens)  # cached tokens carry their roles
    return user


@transaction.atomic
def reset_two_factor(user: User, *, by: User) -> None:
    """Remove the user's authenticator and recovery codes; they enrol again at next sign-in."""
    Authenticator.objects.filter(user=user).delete()
    RecoveryCodeSet.objects.filter(user=user).delete()
    record(AuditEvent.Action.TWO_FACTOR_RESET, actor=by, subject=user)


@transaction.atomic
def create_api_token(
    user: User,
    *,
    name: str,
    by: User | None,
    days: int | None = None,
    scope: TokenScope = TokenScope.FULL,
) -> tuple[ApiToken, str]:
    """Make a token; the raw value is returned once and never stored.

    `by` is who made it (None from the command line: the token's owner). It
    expires after `days` (API_TOKEN_DAYS by default, 90).
    """
    days = settings.API_TOKEN_DAYS if days is None else days
    if days < 1:
        raise ValueError("A token lasts at least one day.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:10],
        token_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=days),
        scope=scope,
    )
    record(
        AuditEvent.Action.TOKEN_CREATED,
        actor=by or user,
        subject=token,
        for_user=user.username,
        name=name,
        scope=str(scope),
        expires_at=token.expires_at,
    )
    return token, raw


@transaction.atomic
def revoke_api_token(
    token: ApiToken, *, by: User | None, reason: str = "revoked"
) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    transaction.on_commit(forget_api_tokens)
    record(
        AuditEvent.Action.TOKEN_REVOKED,
        actor=by or token.user,
        subject=token,
        reason=reason,
    )


def _revoke_all_tokens(user: User, *, by: User | None, reason: str) -> None:
    """Every live token of the user, each revoked on the record (lockout, deactivation)."""
    for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        revoke_api_token(token, by=by, reason=reason)


# A token's use is recorded once per token per this many seconds: each request's
# own audit event names the token (audit.record.api_token), so a row per call
# (a monitor posts every few seconds) would only repeat what is already there.
TOKEN_USE_RECORD_SECONDS = 5 * 60


# Live tokens this process has looked up, by hash, for API_TOKEN_CACHE_SECONDS: a
# monitor posting every second would otherwise pay a joined SELECT per request.
# A revocation (also the one lockout and deactivation make) empties it at commit,
# so in the process that revoked it holds at once; a revocation by another process
# (`neuroclinic token revoke`, another web worker) holds within that many seconds.
# Expiry and lockout are checked on every hit. The user's roles are kept with the
# token; a change of roles or of the user empties the cache too. 0 turns it off.
_live_tokens: dict[str, tuple[float, ApiToken]] = {}
_clock = time.monotonic


def forget_api_tokens() -> None:
    """Empty this process's token cache (a revocation, a lockout, a deactivation)."""
    _live_tokens.clear()


def _cached_token(token_hash: str, now: datetime) -> ApiToken | None:
    found = _live_tokens.get(token_hash)
    if found is None:
        return None
    stored_at, token = found
    if _clock() - stored_at >= settings.API_TOKEN_CACHE_SECONDS:
        _live_tokens.pop(token_hash, None)
        return None
    if token.is_expired or token.user.is_locked():
        _live_tokens.pop(token_hash, None)
        return None
    # A copy, so one request's changes to the user never reach another's.
    fresh = copy.copy(token)
    fresh.user = copy.copy(token.user)
    return fresh


def authenticate_api_token(raw: str) -> ApiToken | None:
    """The live token for a bearer value, recording its use (or the refusal).

    Refused: unknown, revoked, expired, or its user deactivated or locked out.
    The lookup runs outside a transaction: on SQLite every transaction is
    IMMEDIATE (a write lock), and most calls now write nothing. A write (the
    sparse use record, a refusal) opens its own. A live token is remembered for
    API_TOKEN_CACHE_SECONDS (see _live_tokens for how revocation is honoured).
    """
    now = timezone.now()
    token_hash = hash_token(raw)
    token = _cached_token(token_hash, now)
    if token is None:
        token = (
            ApiToken.objects.select_related("user")
            .filter(
                token_hash=token_hash,
                revoked_at__isnull=True,
                expires_at__gt=now,
                user__is_active=True,
            )
            .first()
        )
        if token is None or token.user.is_locked():
            # Counted per source and window, recorded in aggregate (audit/refusals.py).
            record_refusal(AuditEvent.Action.TOKEN_REFUSED, prefix=raw[:10])
            return None
        if settings.API_TOKEN_CACHE_SECONDS > 0:
            token.user.capabilities  # noqa: B018  (read once, kept with the token)
            kept = copy.copy(token)
            kept.user = copy.copy(token.user)
            _live_tokens[token_hash] = (_clock(), kept)
    last = token.last_used_at
    if last is None or (now - last).total_seconds() >= TOKEN_USE_RECORD_SECONDS:
        _record_token_use(token, now)
        cached = _live_tokens.get(token_hash)
        if cached is not None:
            cached[1].last_used_at = now
    return token


@transaction.atomic
def _record_token_use(token: ApiToken, now: datetime) -> None:
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    record(
        AuditEvent.Action.TOKEN_USED,
        actor=token.user,
        subject=token,
        recorded_every_seconds=TOKEN_USE_RECORD_SECONDS,
    )
