"""Writes for operations: backups on record, a new clinic's first admin, a failed task sent round again."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.operations.models import BackupRecord

COMMAND = "(command line)"


class OperationsError(Exception):
    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def record_backup(
    *,
    started_at: datetime,
    file_name: str,
    size_bytes: int,
    vendor: str,
    problem: str,
    by: User | None,
) -> BackupRecord:
    backup = BackupRecord.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        ok=not problem,
        file_name=file_name[:255],
        size_bytes=size_bytes,
        database_vendor=vendor,
        problem=problem,
    )
    record(
        AuditEvent.Action.BACKUP_FAILED if problem else AuditEvent.Action.BACKUP_MADE,
        actor=by,
        actor_username="" if by else "(backup job)",
        subject=backup,
        outcome=AuditEvent.Outcome.FAILURE if problem else AuditEvent.Outcome.SUCCESS,
        file_name=backup.file_name,
        size_bytes=size_bytes,
    )
    return backup


@transaction.atomic
def record_restore(*, file_name: str, backup_created_at: str, migrated: int) -> None:
    record(
        AuditEvent.Action.DATABASE_RESTORED,
        actor=None,
        actor_username="(restore command)",
        file_name=file_name,
        backup_created_at=backup_created_at,
        migrations_applied=migrated,
    )


@transaction.atomic
def set_up_clinic(
    *,
    organization_name: str,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    password: str,
    by: User | None = None,
) -> User:
    """Create the organization (or use the only one) and its first clinic admin.

    Refused when that organization already has an active clinic admin: from
    then on admins add staff on the Staff page. Two-factor enrolment happens at
    the admin's first sign-in, as for every account.
    """
    if User.objects.filter(username=username).exists():
        raise OperationsError(
            f"There is already a user {username!r}.", field="username"
        )
    organization = Organization.objects.filter(name=organization_name).first()
    if organization is None:
        organization = Organization.objects.create(name=organization_name)
    elif User.objects.filter(
        organization=organization, is_active=True, groups__name=Role.CLINIC_ADMIN.value
    ).exists():
        raise OperationsError(
            f"{organization_name} already has a clinic admin: add staff on the Staff page.",
            field="organization",
        )
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        organization=organization,
    )
    validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=Role.CLINIC_ADMIN.value)])
    actor_username = "" if by else COMMAND
    record(
        AuditEvent.Action.USER_CREATED,
        actor=by,
        actor_username=actor_username,
        organization=organization,
        subject=user,
        username=username,
        roles=[Role.CLINIC_ADMIN.value],
    )
    record(
        AuditEvent.Action.CLINIC_SET_UP,
        actor=by,
        actor_username=actor_username,
        organization=organization,
        subject=organization,
    )
    return user


@transaction.atomic
def retry_task(result: DBTaskResult[..., Any], *, by: User) -> DBTaskResult[..., Any]:
    """Send a failed task round again now, with a fresh set of attempts."""
    locked = DBTaskResult.objects.select_for_update().get(pk=result.pk)
    if locked.status != TaskResultStatus.FAILED:
        raise OperationsError("Only a failed task can be retried.")
    locked.status = TaskResultStatus.READY
    locked.run_after = timezone.now()
    locked.finished_at = None
    locked.worker_ids = []
    locked.save(update_fields=["status", "run_after", "finished_at", "worker_ids"])
    record(
        AuditEvent.Action.TASK_RETRIED,
        actor=by,
        subject=None,
        task=locked.task_path,
        task_id=str(locked.id),
    )
    return locked
