"""The medical director's pages: dashboard, quality measures, booster rules, research export."""

import io
import zipfile
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from neuroclinic.accounts.access import require_capability
from neuroclinic.accounts.roles import Capability
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.lib.replica import replica_reads
from neuroclinic.outcomes import charts, dashboard, export, quality, rates
from neuroclinic.outcomes.actions import boosters
from neuroclinic.outcomes.actions.common import OutcomesError
from neuroclinic.outcomes.cohorts import quality_cohort
from neuroclinic.outcomes.episodes import outcome_rules_for
from neuroclinic.outcomes.models import BoosterRuleSet, EpisodeSummaryRow
from neuroclinic.treatment.actions.plans import clinic_today

INSTRUMENTS = (("phq9", "PHQ-9"), ("qids-sr16", "QIDS-SR16"), ("madrs", "MADRS"))


class PeriodForm(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            raise forms.ValidationError("The period ends before it starts.")
        return data


def _instrument(request: AuthenticatedHttpRequest) -> str:
    code = request.GET.get("instrument", "phq9")
    return code if code in dict(INSTRUMENTS) else "phq9"


def _period_query(period: dashboard.Period) -> str:
    """The period as query-string pairs for links ("" for all time)."""
    pairs = {
        k: v.isoformat()
        for k, v in (("start", period.start), ("end", period.end))
        if v is not None
    }
    return "&" + urlencode(pairs) if pairs else ""


@require_capability(Capability.VIEW_OUTCOMES)
@require_GET
@replica_reads
def dashboard_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    code = _instrument(request)
    period_form = PeriodForm(
        {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")}
    )
    if not period_form.is_valid():
        return render(
            request,
            "outcomes/dashboard.html",
            {
                "period_form": period_form,
                "instruments": INSTRUMENTS,
                "code": code,
                "zone": dashboard.reporting_zone(request.user.organization_pk),
            },
            status=422,
        )
    # Days of the clinic's calendar, named on the page; "today" is that calendar's too.
    zone = dashboard.reporting_zone(request.user.organization_pk)
    period = dashboard.Period(
        period_form.cleaned_data["start"], period_form.cleaned_data["end"], zone
    )
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    data = dashboard.from_table(
        request.user.organization_pk, today=today, instrument_code=code, period=period
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.OUTCOMES_VIEWED,
            actor=request.user,
            report="dashboard",
            instrument=code,
            period=f"{period.start or ''}..{period.end or ''}",
            episodes=data.episodes,
        )
    clinic = rates.clinic_rates(request.user.organization_pk, period)
    if request.GET.get("format") == "csv":
        return _dashboard_csv(data, clinic)
    response_rates = [c.response for c in data.checkpoints]
    remission_rates = [c.remission for c in data.checkpoints]
    rules = outcome_rules_for(request.user.organization_pk)
    return render(
        request,
        "outcomes/dashboard.html",
        {
            "data": data,
            "outcome_rules": rules,
            "remission_max": rules.remission_max_for(code),
            "period_form": period_form,
            "zone": zone,
            "period_query": _period_query(period),
            # Patient lists behind the figures: only for those who may read charts;
            # a role that may see aggregates only gets the figures without links.
            "links": request.user.can(Capability.VIEW_CHART),
            "instruments": INSTRUMENTS,
            "code": code,
            "rates": clinic,
            "response_svg": charts.rate_bars(
                "Response by checkpoint", response_rates, "c-resp"
            ),
            "remission_svg": charts.rate_bars(
                "Remission by checkpoint", remission_rates, "c-rem"
            ),
            "relapse_svg": charts.survival_steps(
                "Time from remission to relapse (Kaplan-Meier)", data.relapse, "c-rel"
            ),
            "booster_svg": charts.survival_steps(
                "Time from series end to first booster (Kaplan-Meier)",
                data.first_booster,
                "c-boost",
            ),
        },
    )


FIGURE_LIMIT = 500


def _period_or_error(request: AuthenticatedHttpRequest) -> dashboard.Period | str:
    """The reporting period asked for, or the form's error message."""
    form = PeriodForm(
        {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")}
    )
    if not form.is_valid():
        return " ".join(str(e) for errors in form.errors.values() for e in errors)
    return dashboard.Period(
        form.cleaned_data["start"],
        form.cleaned_data["end"],
        dashboard.reporting_zone(request.user.organization_pk),
    )


@require_capability(Capability.VIEW_OUTCOMES)
@require_capability(Capability.VIEW_CHART)
@require_GET
@replica_reads
def figure_patients(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The patients behind one dashboard figure (a checkpoint count or a Kaplan-Meier
    curve's count); each listed patient's read is audited."""
    code = _instrument(request)
    checkpoint = request.GET.get("checkpoint", "")
    curve = request.GET.get("curve", "")
    measure = request.GET.get("measure", "")
    by = request.GET.get("by", "")
    key = request.GET.get("key", "")
    error = ""
    rows: list[EpisodeSummaryRow] = []
    total = 0
    period = _period_or_error(request)
    if isinstance(period, str):
        error = period
    else:
        try:
            if curve:
                found = dashboard.curve_rows(
                    request.user.organization_pk,
                    instrument_code=code,
                    period=period,
                    curve=curve,
                    measure=measure,
                )
            else:
                found = dashboard.figure_rows(
                    request.user.organization_pk,
                    instrument_code=code,
                    period=period,
                    checkpoint=checkpoint,
                    measure=measure,
                    by=by,
                    key=key,
                )
        except ValueError as exc:
            error = str(exc)
        else:
            total = found.count()
            rows = list(
                found.select_related("patient", "location").order_by(
                    "patient__family_name", "patient__given_name", "patient_id", "id"
                )[:FIGURE_LIMIT]
            )
    if error:
        return render(
            request,
            "outcomes/figure_patients.html",
            {"error": error, "code": code},
            status=422,
        )
    assert isinstance(period, dashboard.Period)
    with transaction.atomic():
        for row in rows:
            record(
                AuditEvent.Action.OUTCOMES_VIEWED,
                actor=request.user,
                patient=row.patient,
                report="dashboard_figure_patients",
                instrument=code,
                checkpoint=checkpoint,
                curve=curve,
                measure=measure,
                by=by,
                key=key,
            )
    if curve:
        label = f"{dashboard.CURVES[curve][0]}, {dashboard.CURVE_MEASURES[measure]}"
    else:
        labels = {column: label for label, column in dashboard.CHECKPOINT_COLUMNS}
        label = labels[checkpoint]
    return render(
        request,
        "outcomes/figure_patients.html",
        {
            "rows": rows,
            "total": total,
            "limit": FIGURE_LIMIT,
            "code": code,
            "checkpoint_label": label,
            "curve": curve,
            "measure": measure,
            "by": by,
            "key": key,
            "period": period,
        },
    )


@require_capability(Capability.VIEW_OUTCOMES)
@require_capability(Capability.VIEW_CHART)
@require_GET
@replica_reads
def rate_patients(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The patients behind one clinic rate (funnel step, no-shows, infusions, adverse
    events, CADSS-6); each patient listed is audited once."""
    figure = request.GET.get("figure", "")
    key = request.GET.get("key", "")
    period = _period_or_error(request)
    if isinstance(period, str):
        error = period
    else:
        try:
            total, rows = rates.figure_rows(
                request.user.organization_pk,
                figure=figure,
                key=key,
                period=period,
                limit=FIGURE_LIMIT,
            )
        except ValueError as exc:
            error = str(exc)
        else:
            error = ""
    if error:
        return render(
            request, "outcomes/rate_patients.html", {"error": error}, status=422
        )
    assert isinstance(period, dashboard.Period)
    with transaction.atomic():
        for patient in {row.patient.pk: row.patient for row in rows}.values():
            record(
                AuditEvent.Action.OUTCOMES_VIEWED,
                actor=request.user,
                patient=patient,
                report="dashboard_rate_patients",
                figure=figure,
                key=key,
                period=f"{period.start or ''}..{period.end or ''}",
            )
    return render(
        request,
        "outcomes/rate_patients.html",
        {
            "rows": rows,
            "total": total,
            "limit": FIGURE_LIMIT,
            "heading": rates.FIGURES[figure],
            "figure": figure,
            "key": key,
            "period": period,
        },
    )


def _dashboard_csv(
    data: dashboard.Dashboard, clinic: rates.ClinicRates
) -> HttpResponse:
    """The dashboard's tables as one CSV (aggregates only: no patient in it)."""
    period = data.period
    rows: list[dict[str, object]] = [
        {
            # The period's dates are days of the clinic's calendar: the CSV says whose.
            "table": "reporting period",
            "label": f"first infusion {period.start or 'any day'} to "
            f"{period.end or 'any day'}, calendar days in {period.zone}",
        }
    ]
    for c in data.checkpoints:
        for measure, rate in (("response", c.response), ("remission", c.remission)):
            interval = rate.interval
            rows.append(
                {
                    "table": measure,
                    "label": c.label,
                    "count": rate.count,
                    "total": rate.total,
                    "percent": rate.percent if rate.percent is not None else "",
                    "ci_low": interval[0] if interval else "",
                    "ci_high": interval[1] if interval else "",
                }
            )
    for curve in (data.relapse, data.first_booster):
        for days, survival in curve.points:
            rows.append(
                {
                    "table": curve.label,
                    "label": f"day {days:g}",
                    "percent": f"{survival * 100:.1f}",
                }
            )
    for label, count in data.intervals:
        rows.append({"table": "booster intervals", "label": label, "count": count})
    for table, groups in (
        ("by protocol", data.by_protocol),
        ("by location", data.by_location),
        ("by dose", data.by_dose),
        ("by diagnosis", data.by_diagnosis),
    ):
        for group in groups:
            for c in group.checkpoints:
                for measure, rate in (
                    ("response", c.response),
                    ("remission", c.remission),
                ):
                    rows.append(
                        {
                            "table": f"{measure} {table}",
                            "label": f"{group.label}: {c.label}",
                            "count": rate.count,
                            "total": rate.total,
                            "percent": rate.percent if rate.percent is not None else "",
                        }
                    )
    for step in clinic.funnel:
        rows.append(
            {
                "table": "funnel",
                "label": step.label,
                "count": step.count,
                "total": step.of_requests.total,
                "percent": step.of_requests.percent or "",
            }
        )
    for rate in (clinic.no_show, *clinic.no_show_by_type):
        rows.append(
            {
                "table": "no-shows",
                "label": rate.label,
                "count": rate.count,
                "total": rate.total,
                "percent": rate.percent if rate.percent is not None else "",
            }
        )
    for event in clinic.adverse_events:
        rows.append(
            {
                "table": "adverse events per 100 infusions",
                "label": event.label,
                "count": event.events,
                "total": event.infusions,
                "percent": event.per_100 if event.per_100 is not None else "",
            }
        )
    for row in clinic.cadss:
        rows.append(
            {
                "table": "CADSS-6 mean by infusion number",
                "label": f"infusion {row.infusion_number}",
                "count": row.count,
                "percent": row.mean,
            }
        )
    columns = ["table", "label", "count", "total", "percent", "ci_low", "ci_high"]
    response = HttpResponse(export.to_csv(rows, columns), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="outcomes-dashboard.csv"'
    return response


@require_capability(Capability.VIEW_OUTCOMES)
@require_GET
@replica_reads
def quality_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = clinic_today(request.user.organization_pk)
    form = PeriodForm(request.GET or None)
    start, end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    facts, patients = quality_cohort(request.user.organization_pk)
    results = (
        [quality.evaluate(spec, facts, start, end) for spec in quality.MEASURES]
        if not form.errors
        else []
    )
    with transaction.atomic():
        record(
            AuditEvent.Action.OUTCOMES_VIEWED,
            actor=request.user,
            report="quality",
            period=f"{start}..{end}",
            patients=len(facts),
        )
    rows = [
        (
            result,
            [
                (patients[p.ref], p)
                for p in result.patients
                if p.in_denominator or p.index_on is not None
            ],
        )
        for result in results
    ]
    return render(
        request,
        "outcomes/quality.html",
        {"form": form, "rows": rows, "start": start, "end": end},
        status=422 if form.errors else 200,
    )


class RulesForm(forms.Form):
    rise_points = forms.IntegerField(min_value=1, max_value=30)
    consecutive_rises = forms.IntegerField(min_value=1, max_value=10)
    band_threshold = forms.IntegerField(min_value=1, max_value=60, required=False)
    learn_after_boosters = forms.IntegerField(min_value=1, max_value=20)
    lead_days = forms.IntegerField(min_value=0, max_value=60)
    due_soon_days = forms.IntegerField(min_value=0, max_value=60)
    overdue_after_days = forms.IntegerField(min_value=0, max_value=60)
    # The clinic's outcome definitions (docs/outcomes.md); ranges checked in `clean`.
    response_reduction_percent = forms.IntegerField(
        label="Response: % below baseline at least"
    )
    partial_reduction_percent = forms.IntegerField(
        label="Partial response: % below baseline at least"
    )
    relapse_consecutive = forms.IntegerField(
        label="Relapse: consecutive scores without response"
    )
    remission_max_phq9 = forms.IntegerField(label="Remission: PHQ-9 total at most")
    remission_max_qids_sr16 = forms.IntegerField(
        label="Remission: QIDS-SR16 total at most"
    )
    remission_max_madrs = forms.IntegerField(label="Remission: MADRS total at most")
    remission_max_hamd17 = forms.IntegerField(label="Remission: HAM-D17 total at most")
    change_note = forms.CharField(max_length=500)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        given = {
            name: cleaned[name]
            for name in boosters.OUTCOME_RULE_FIELDS
            if cleaned.get(name) is not None
        }
        for name, message in boosters.outcome_rule_errors(given).items():
            if name in given:  # a missing or non-number value has its own error
                self.add_error(name, message)
        return cleaned


@require_capability(Capability.CONFIGURE_BOOSTER_RULES)
@require_http_methods(["GET", "POST"])
def rules_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = boosters.current_rules(request.user.organization_pk)
    initial = {
        **current.as_dict(),
        **boosters.outcome_values(request.user.organization_pk),
    }
    form = RulesForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items() if k != "change_note"}
            assert request.user.organization is not None
            try:
                boosters.change_booster_rules(
                    request.user.organization,
                    values=values,
                    change_note=form.cleaned_data["change_note"],
                    by=request.user,
                )
            except OutcomesError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "New booster rules saved as a new version.")
                return redirect("outcomes:rules")
        status = 422
    versions = list(
        BoosterRuleSet.objects.filter(organization_id=request.user.organization_pk)
        .select_related("created_by")
        .order_by("-version")[:20]
    )
    return render(
        request,
        "outcomes/rules.html",
        {"form": form, "current": current, "versions": versions},
        status=status,
    )


@require_capability(Capability.RESEARCH_EXPORT)
@require_GET
@replica_reads
def research_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A zip of the de-identified tables as CSV, with the data dictionary (audited)."""
    tables = export.build_tables(request.user.organization_pk)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            archive.writestr(
                f"{name}.csv", export.to_csv(rows, export.DICTIONARY[name])
            )
        archive.writestr("data_dictionary.csv", export.dictionary_csv())
    with transaction.atomic():
        record(
            AuditEvent.Action.RESEARCH_EXPORTED,
            actor=request.user,
            format="csv",
            rows={name: len(rows) for name, rows in tables.items()},
        )
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="research-export.zip"'
    return response
