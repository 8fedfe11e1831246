"""Site-wide pages: the staff home page (one per role) and the health check.

Each role lands on its own work after sign-in (issue 18 item 2): counts only, no
patient names, each count a link to where the work is done. Counts are
aggregates of the user's organization, so reading them is not a chart read and
is not audited.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count as Tally
from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import polled, staff_required
from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability, Role
from neuroclinic.billing.models import Invoice
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.infusions.models import InfusionNote, InfusionSession, VitalReading
from neuroclinic.intake.models import ConsultRequest, EligibilityDecision, IntakePacket
from neuroclinic.ledger.models import (
    ComplianceTask,
    Count,
    Discrepancy,
    LedgerCheck,
    Registrant,
)
from neuroclinic.measures.models import SafetyAlert
from neuroclinic.outcomes.models import BoosterSuggestion
from neuroclinic.patients.models import Patient
from neuroclinic.scheduling.models import Appointment
from neuroclinic.tms.models import TmsSession


@dataclass(frozen=True)
class WorkItem:
    key: str
    label: str
    count: int | None
    url: str
    urgent: bool = False


def _day_bounds() -> tuple[datetime, datetime]:
    """Today in the clinic's zone (the active one), as aware datetimes."""
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    start = datetime.combine(today, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _nurse(user: User) -> list[WorkItem]:
    org = user.organization_pk
    today = timezone.localdate()
    sessions = InfusionSession.objects.filter(organization_id=org, service_date=today)
    S = InfusionSession.Status
    counts = sessions.aggregate(
        running=Tally("id", filter=Q(status__in=[S.RUNNING, S.PAUSED])),
        recovering=Tally("id", filter=Q(status=S.RECOVERY)),
        waiting=Tally("id", filter=Q(status=S.CHECKED_IN)),
    )
    running, recovering, waiting = (
        counts["running"],
        counts["recovering"],
        counts["waiting"],
    )
    to_sign = InfusionSession.objects.filter(
        organization_id=org, nurse=user, status=S.DISCHARGED
    ).count()
    due = _vitals_due(sessions, timezone.now())
    board = reverse("infusions:board")
    return [
        WorkItem("infusing", "Infusing now", running, board, urgent=running > 0),
        WorkItem("recovery", "In recovery", recovering, board),
        WorkItem("checked_in", "Checked in, not started", waiting, board),
        WorkItem("vitals_due", "Vital signs due", due, board, urgent=due > 0),
        WorkItem(
            "notes_to_sign",
            "Your notes to sign",
            to_sign,
            reverse("infusions:day"),
            urgent=to_sign > 0,
        ),
    ]


def _vitals_due(sessions: "QuerySet[InfusionSession]", now: datetime) -> int:
    """Infusing or recovering sessions whose newest reading (else the phase's start)
    is at least the protocol's interval ago: every 10 minutes while infusing and
    every 15 in recovery by default (treatment.defaults), as the session screen says."""
    S = InfusionSession.Status
    newest = (
        VitalReading.objects.filter(session=OuterRef("pk"))
        .order_by("-taken_at")
        .values("taken_at")[:1]
    )
    rows = (
        sessions.filter(status__in=[S.RUNNING, S.PAUSED, S.RECOVERY])
        .annotate(newest=Subquery(newest))
        .values_list(
            "status",
            "started_at",
            "ended_at",
            "newest",
            "order__protocol__vitals_interval_minutes",
            "order__protocol__recovery_vitals_interval_minutes",
        )
    )
    due = 0
    for status, started, ended, last, every, every_in_recovery in rows:
        recovery = status == S.RECOVERY
        since = last or (ended if recovery else started)
        minutes = every_in_recovery if recovery else every
        if since is None or now - since >= timedelta(minutes=minutes):
            due += 1
    return due


def _rooms(user: User) -> list[WorkItem]:
    """Each room with an open infusion today and its state (no patient names): a
    panel of its own, so a room's name ("Infusion 1") is not read as a count."""
    S = InfusionSession.Status
    board = reverse("infusions:board")
    rows = (
        InfusionSession.objects.filter(
            organization_id=user.organization_pk,
            service_date=timezone.localdate(),
            room__isnull=False,
            status__in=[S.CHECKED_IN, S.RUNNING, S.PAUSED, S.RECOVERY],
        )
        .order_by("room__name", "id")
        .values_list("room__name", "status")
    )
    return [
        WorkItem(f"room_{n}", f"{room}: {S(status).label.lower()}", None, board)
        for n, (room, status) in enumerate(rows)
    ]


def _prescriber(user: User) -> list[WorkItem]:
    org = user.organization_pk
    open_alerts = SafetyAlert.objects.filter(
        organization_id=org, acknowledged_at__isnull=True
    )
    mine = open_alerts.filter(assigned_to=user).count()
    cosign = InfusionNote.objects.filter(
        session__organization_id=org, cosigned_at__isnull=True
    ).count()
    # A submitted packet with no eligibility decision signed since it was submitted.
    reviews = (
        IntakePacket.objects.filter(organization_id=org, submitted_at__isnull=False)
        .exclude(
            Exists(
                EligibilityDecision.objects.filter(
                    patient_id=OuterRef("patient_id"),
                    signed_at__gte=OuterRef("submitted_at"),
                )
            )
        )
        .count()
    )
    boosters_due = BoosterSuggestion.objects.filter(
        organization_id=org,
        status=BoosterSuggestion.Status.OPEN,
        due_on__lte=timezone.localdate(),
    ).count()
    alerts = reverse("measures:alerts")
    return [
        WorkItem(
            "alerts_mine", "Safety alerts assigned to you", mine, alerts, mine > 0
        ),
        WorkItem(
            "alerts_open", "Open safety alerts (clinic)", open_alerts.count(), alerts
        ),
        WorkItem(
            "cosign", "Infusion notes to co-sign", cosign, reverse("infusions:day")
        ),
        WorkItem(
            "eligibility",
            "Intake packets waiting for an eligibility decision",
            reviews,
            reverse("intake:worklist"),
        ),
        WorkItem(
            "boosters",
            "Boosters due or overdue",
            boosters_due,
            reverse("outcomes:boosters"),
            urgent=boosters_due > 0,
        ),
    ]


def _front_desk(user: User) -> list[WorkItem]:
    org = user.organization_pk
    start, end = _day_bounds()
    A = Appointment.Status
    today = Appointment.objects.filter(
        organization_id=org, starts_at__gte=start, starts_at__lt=end
    ).exclude(status__in=[A.CANCELLED, A.MOVED])
    arrived = today.filter(status=A.CHECKED_IN).count()
    expected = today.exclude(status__in=[A.CHECKED_IN, A.NO_SHOW]).count()
    # By age: how many wait and how long the oldest has, so an old one is not lost
    # among new ones (one query for both).
    waiting = ConsultRequest.objects.filter(
        organization_id=org, status=ConsultRequest.Status.NEW
    ).aggregate(count=Tally("id"), oldest=Min("created_at"))
    new_requests: int = waiting["count"]
    oldest = waiting["oldest"]
    days = (
        (timezone.localdate() - timezone.localtime(oldest).date()).days if oldest else 0
    )
    consults_label = "New consult requests" + (
        ""
        if oldest is None
        else ", oldest today"
        if days == 0
        else f", oldest waiting {days} day{'s' if days != 1 else ''}"
    )
    incomplete = IntakePacket.objects.filter(
        organization_id=org, submitted_at__isnull=True
    ).count()
    day = reverse("scheduling:day")
    return [
        WorkItem("expected", "Still expected today", expected, day),
        WorkItem("arrived", "Arrived today", arrived, day),
        WorkItem(
            "consults",
            consults_label,
            new_requests,
            reverse("intake:queue"),
            urgent=new_requests > 0,
        ),
        WorkItem(
            "intake",
            "Intake packets not yet submitted",
            incomplete,
            reverse("intake:worklist"),
        ),
    ]


def _last_verify(org: int, url: str) -> WorkItem:
    """Each registration's latest chain check: when the oldest of them ran, or which failed."""
    latest = LedgerCheck.objects.filter(registrant=OuterRef("pk")).order_by(
        "-ran_at", "-id"
    )
    checks = list(
        Registrant.objects.filter(organization_id=org)
        .annotate(
            ok=Subquery(latest.values("ok")[:1]),
            ran_at=Subquery(latest.values("ran_at")[:1]),
        )
        .values_list("ok", "ran_at")
    )
    if not checks:
        return WorkItem("last_verify", "No DEA registration set up", None, url)
    if any(ok is False for ok, _ in checks):
        return WorkItem(
            "last_verify", "Ledger chain check FAILED: see the ledger", None, url, True
        )
    if any(ran_at is None for _, ran_at in checks):
        return WorkItem("last_verify", "Ledger chain not checked yet", None, url, True)
    oldest = timezone.localtime(min(ran_at for _, ran_at in checks))
    return WorkItem(
        "last_verify",
        f"Ledger chain intact, checked {oldest:%Y-%m-%d %H:%M}",
        None,
        url,
    )


def _custodian(user: User) -> list[WorkItem]:
    org = user.organization_pk
    open_disc = Discrepancy.objects.filter(
        organization_id=org,
        status__in=[Discrepancy.Status.OPEN, Discrepancy.Status.INVESTIGATING],
    ).count()
    tasks = ComplianceTask.objects.filter(
        organization_id=org, status=ComplianceTask.Status.OPEN
    )
    open_tasks = tasks.count()
    overdue = tasks.filter(due_date__lte=timezone.localdate()).exists()
    last_count = (
        Count.objects.filter(registrant__organization_id=org)
        .order_by("-counted_at")
        .values_list("counted_at", flat=True)
        .first()
    )
    dashboard = reverse("ledger:dashboard")
    return [
        WorkItem("ledger", "Ledger: stock and recent entries", None, dashboard),
        WorkItem(
            "discrepancies", "Open discrepancies", open_disc, dashboard, open_disc > 0
        ),
        WorkItem(
            "dea_tasks",
            "DEA notices and forms open" + (" (due)" if overdue else ""),
            open_tasks,
            dashboard,
            overdue,
        ),
        WorkItem(
            "last_count",
            f"Last count {timezone.localtime(last_count):%Y-%m-%d}"
            if last_count
            else "No count recorded yet",
            None,
            dashboard,
        ),
        _last_verify(org, reverse("ledger:reports")),
    ]


def _billing(user: User) -> list[WorkItem]:
    start, end = _day_bounds()
    issued = Invoice.objects.filter(
        organization_id=user.organization_pk, issued_at__gte=start, issued_at__lt=end
    ).count()
    return [
        WorkItem("billing", "Invoices issued today", issued, reverse("billing:home")),
        WorkItem("aging", "Accounts by age", None, reverse("billing:aging")),
        WorkItem("day_end", "Day-end report", None, reverse("billing:day_end")),
    ]


def _tms(user: User) -> list[WorkItem]:
    start, end = _day_bounds()
    sessions = TmsSession.objects.filter(
        course__organization_id=user.organization_pk,
        started_at__gte=start,
        started_at__lt=end,
    )
    running = sessions.filter(status=TmsSession.Status.IN_PROGRESS).count()
    courses = reverse("tms:courses")
    return [
        WorkItem("tms_today", "TMS sessions today", sessions.count(), courses),
        WorkItem("tms_running", "In progress", running, courses, running > 0),
    ]


def _director(user: User) -> list[WorkItem]:
    """The medical director's results and the rules they own, one link each."""
    return [
        WorkItem(
            "outcomes", "Clinic outcomes dashboard", None, reverse("outcomes:dashboard")
        ),
        WorkItem("quality", "Quality measures", None, reverse("outcomes:quality")),
        WorkItem(
            "booster_rules",
            "Booster and outcome rules",
            None,
            reverse("outcomes:rules"),
        ),
        WorkItem(
            "tms_protocols", "TMS protocol versions", None, reverse("tms:protocols")
        ),
        WorkItem(
            "em_rules",
            "Office-visit time rules (billing)",
            None,
            reverse("billing:em_rules"),
        ),
    ]


def _auditor(user: User) -> list[WorkItem]:
    return [WorkItem("audit", "Audit log", None, reverse("audit:events"))]


# The order a user with several roles sees them in: clinical work first.
ROLE_PANELS = [
    (Role.MEDICAL_DIRECTOR, "Signatures and alerts", _prescriber),
    (Role.PRESCRIBER, "Signatures and alerts", _prescriber),
    (Role.NURSE, "Infusions today", _nurse),
    (Role.TMS_TECHNICIAN, "TMS today", _tms),
    (Role.FRONT_DESK, "Today at the desk", _front_desk),
    (Role.CLINIC_ADMIN, "Today at the desk", _front_desk),
    (Role.CUSTODIAN, "Controlled substances", _custodian),
    (Role.BILLING, "Billing", _billing),
    (Role.AUDITOR, "Audit", _auditor),
]
# The director sees the clinic at a glance: the nurse's and custodian's counts too.
EXTRA = {
    Role.NURSE: [("Rooms in use", _rooms)],
    Role.MEDICAL_DIRECTOR: [
        ("Infusions today", _nurse),
        ("Rooms in use", _rooms),
        ("Controlled substances", _custodian),
        ("Results and rules", _director),
    ],
}


def work_panels(user: User) -> list[tuple[str, list[WorkItem]]]:
    panels: list[tuple[str, list[WorkItem]]] = []
    seen: set[str] = set()
    for role, title, build in ROLE_PANELS:
        if role not in user.roles:
            continue
        for extra_title, extra in [(title, build), *EXTRA.get(role, [])]:
            if extra_title in seen:
                continue
            seen.add(extra_title)
            items = extra(user)
            if items:  # a panel with nothing in it (no room in use) is left out
                panels.append((extra_title, items))
    return panels


@polled
@staff_required
@require_GET
def home_panels(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The role home's work items alone, which the page polls (not activity: idle
    sign-out still happens on an unattended screen)."""
    return render(request, "home_panels.html", {"panels": work_panels(request.user)})


@staff_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    recent: list[Patient] = []
    panels = work_panels(request.user)
    desk = {Role.FRONT_DESK, Role.CLINIC_ADMIN} & request.user.roles
    if (desk or not panels) and request.user.can(Capability.VIEW_PATIENT_LIST):
        recent = list(
            Patient.objects.visible_to(request.user).order_by("-created_at", "-id")[:8]
        )
    return render(
        request,
        "home.html",
        {"recent": recent, "panels": panels, "today": timezone.localdate()},
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: is the database there and fully migrated? No PHI."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return JsonResponse({"status": "fail", "database": "unreachable"}, status=503)
    body = {
        "status": "ok" if not pending else "fail",
        "database": connection.vendor,
        "migrations": "applied" if not pending else f"{len(pending)} pending",
    }
    return JsonResponse(body, status=200 if not pending else 503)
