"""The 10-14 day window after the induction series: a follow-up visit and a note to the
referring provider, tracked as tasks (Source: K5, K22; the window is the induction
protocol's `follow_up_window_start_days`-`follow_up_window_end_days`).

The letter itself belongs to the letters app; this only says it is due and who did it.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Organization
from neuroclinic.outcomes.actions.common import OutcomesError, clinic_zone
from neuroclinic.outcomes.models import FollowUpTask
from neuroclinic.treatment.models import TreatmentPlan


def follow_up_window(plan: TreatmentPlan, zone: str) -> tuple[date, date]:
    """From the last induction infusion: protocol start to end days (clinic dates)."""
    protocol = plan.induction_protocol
    if plan.induction_dates:
        last = date.fromisoformat(plan.induction_dates[-1])
    else:
        assert plan.induction_completed_at is not None
        last = timezone.localtime(plan.induction_completed_at, ZoneInfo(zone)).date()
    return (
        last + timedelta(days=protocol.follow_up_window_start_days),
        last + timedelta(days=protocol.follow_up_window_end_days),
    )


@transaction.atomic
def open_follow_up_tasks(
    organization: Organization, *, by: User | None = None
) -> list[FollowUpTask]:
    """Open both tasks for every plan whose series is complete and has none (daily job)."""
    zone = clinic_zone(organization.pk)
    done_plans = FollowUpTask.objects.filter(organization=organization).values(
        "plan_id"
    )
    plans = (
        TreatmentPlan.objects.filter(
            organization=organization, induction_completed_at__isnull=False
        )
        .exclude(pk__in=done_plans)
        .select_related("induction_protocol", "patient")
    )
    made = []
    for plan in plans:
        start, end = follow_up_window(plan, zone)
        for kind in FollowUpTask.Kind:
            task = FollowUpTask.objects.create(
                organization=organization,
                patient=plan.patient,
                plan=plan,
                kind=kind,
                due_from=start,
                due_until=end,
            )
            record(
                AuditEvent.Action.FOLLOW_UP_TASK_OPENED,
                actor=by,
                actor_username="" if by else "system",
                organization=organization,
                patient=plan.patient,
                subject=task,
                kind=kind.value,
                due_until=end,
            )
            made.append(task)
    return made


@transaction.atomic
def complete_follow_up_task(
    task: FollowUpTask, *, note: str = "", by: User
) -> FollowUpTask:
    locked = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if locked.status != FollowUpTask.Status.OPEN:
        raise OutcomesError("This task is already closed.")
    locked.status = FollowUpTask.Status.DONE
    locked.done_by = by
    locked.done_at = timezone.now()
    locked.note = note.strip()
    locked.save(update_fields=["status", "done_by", "done_at", "note"])
    record(
        AuditEvent.Action.FOLLOW_UP_TASK_DONE,
        actor=by,
        patient=locked.patient,
        subject=locked,
        kind=locked.kind,
    )
    return locked
