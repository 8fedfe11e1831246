"""Site-wide pages: the staff home page and the health check."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from neuroclinic.accounts.access import staff_required
from neuroclinic.accounts.roles import Capability
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.patients.models import Patient


@staff_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    recent: list[Patient] = []
    if request.user.can(Capability.VIEW_PATIENT_LIST):
        recent = list(
            Patient.objects.visible_to(request.user).order_by("-created_at", "-id")[:8]
        )
    return render(
        request, "home.html", {"recent": recent, "today": timezone.localdate()}
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
