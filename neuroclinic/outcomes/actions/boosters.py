"""Booster rules (versioned by the medical director) and suggestions a prescriber decides.

Suggestions are made by the daily job (`refresh_booster_suggestions`) from each plan in
maintenance; a suggestion keeps the rule version and values it was made under, so a
rule change applies to new suggestions only. Confirming signs the booster order through
the treatment app (password re-entered); dismissing needs a reason. Both are audited.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.measures.instruments import get_instrument
from neuroclinic.outcomes import boosters
from neuroclinic.outcomes.actions.common import OutcomesError, clinic_zone
from neuroclinic.outcomes.episodes import load_episodes, outcome_rules_for
from neuroclinic.outcomes.models import (
    REMISSION_MAX_FIELDS,
    BoosterRuleSet,
    BoosterSuggestion,
)
from neuroclinic.scheduling.actions.appointments import book_appointment
from neuroclinic.scheduling.errors import SchedulingError
from neuroclinic.scheduling.models import Appointment, AppointmentType
from neuroclinic.treatment.actions.orders import protocol_prn, sign_order
from neuroclinic.treatment.actions.plans import clinic_today
from neuroclinic.treatment.errors import TreatmentError
from neuroclinic.treatment.models import InfusionOrder, TreatmentPlan

RULE_FIELDS = (
    "instrument_code",
    "rise_points",
    "consecutive_rises",
    "band_threshold",
    "learn_after_boosters",
    "lead_days",
    "due_soon_days",
    "overdue_after_days",
)
# The clinic's outcome definitions (`summary.OutcomeRules`), saved in the same versions.
OUTCOME_RULE_FIELDS = (
    "response_reduction_percent",
    "partial_reduction_percent",
    "relapse_consecutive",
    *REMISSION_MAX_FIELDS.values(),
)


def outcome_values(organization_id: int) -> dict[str, int]:
    """The clinic's outcome settings in force, by stored field name."""
    rules = outcome_rules_for(organization_id)
    values = {
        "response_reduction_percent": rules.response_reduction_percent,
        "partial_reduction_percent": rules.partial_reduction_percent,
        "relapse_consecutive": rules.relapse_consecutive,
    }
    for code, name in REMISSION_MAX_FIELDS.items():
        values[name] = rules.remission_max[code]
    return values


def outcome_rule_errors(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with these outcome settings, by field (empty: they can apply)."""
    errors: dict[str, str] = {}
    response = values.get("response_reduction_percent")
    partial = values.get("partial_reduction_percent")
    if not isinstance(response, int) or not 1 <= response <= 100:
        errors["response_reduction_percent"] = (
            "Response must be 1 to 100 % below baseline."
        )
    if not isinstance(partial, int) or partial < 1:
        errors["partial_reduction_percent"] = "Partial response must be at least 1 %."
    elif isinstance(response, int) and 1 <= response <= 100 and partial >= response:
        errors["partial_reduction_percent"] = (
            f"Partial response must be below the response percentage ({response} %)."
        )
    consecutive = values.get("relapse_consecutive")
    if not isinstance(consecutive, int) or consecutive < 1:
        errors["relapse_consecutive"] = "Relapse needs at least 1 score."
    for code, name in REMISSION_MAX_FIELDS.items():
        instrument = get_instrument(code)
        low, high = instrument.total_range or (0, 10**6)
        value = values.get(name)
        if not isinstance(value, int) or not low <= value <= high:
            errors[name] = (
                f"{instrument.name}: the remission maximum must be a total "
                f"from {low} to {high}."
            )
    return errors


def current_rules(organization_id: int) -> boosters.BoosterRules:
    """The clinic's newest rule version, or the built-in defaults (version 0)."""
    latest = (
        BoosterRuleSet.objects.filter(organization_id=organization_id)
        .order_by("-version")
        .first()
    )
    return latest.rules() if latest else boosters.BoosterRules(version=0)


@transaction.atomic
def change_booster_rules(
    organization: Organization, *, values: dict[str, Any], change_note: str, by: User
) -> BoosterRuleSet:
    """A new version of the rules; earlier suggestions keep the version they were made under."""
    if not change_note.strip():
        raise OutcomesError("Say why the rules change.")
    unknown = set(values) - set(RULE_FIELDS) - set(OUTCOME_RULE_FIELDS)
    if unknown:
        raise OutcomesError(f"Unknown rule settings: {', '.join(sorted(unknown))}.")
    previous = current_rules(organization.pk)
    booster_values = {
        **{f: getattr(previous, f) for f in RULE_FIELDS},
        **{k: v for k, v in values.items() if k in RULE_FIELDS},
    }
    try:
        boosters.BoosterRules(version=previous.version + 1, **booster_values)
    except (TypeError, ValueError) as error:
        raise OutcomesError(f"Those rules cannot apply: {error}.") from None
    outcome_before = outcome_values(organization.pk)
    outcome = {
        **outcome_before,
        **{k: v for k, v in values.items() if k in OUTCOME_RULE_FIELDS},
    }
    errors = outcome_rule_errors(outcome)
    if errors:
        raise OutcomesError(f"Those rules cannot apply: {' '.join(errors.values())}")
    merged = {**booster_values, **outcome}
    latest = (
        BoosterRuleSet.objects.select_for_update()
        .filter(organization=organization)
        .order_by("-version")
        .first()
    )
    rule_set = BoosterRuleSet.objects.create(
        organization=organization,
        version=(latest.version if latest else 0) + 1,
        change_note=change_note.strip(),
        created_by=by,
        **merged,
    )
    record(
        AuditEvent.Action.BOOSTER_RULES_CHANGED,
        actor=by,
        subject=rule_set,
        version=rule_set.version,
        values=merged,
    )
    if outcome != outcome_before:
        _rebuild_summaries_on_commit(organization.pk)
    return rule_set


def _rebuild_summaries_on_commit(organization_id: int) -> None:
    """New outcome definitions: rebuild the clinic's stored summaries (the dashboard's
    figures) in the background once the new version is committed; a rolled-back change
    queues nothing. Booster-only changes do not touch the summaries and queue nothing."""
    # Imported here: outcomes.tasks imports this module for the daily job.
    from neuroclinic.outcomes.tasks import rebuild_outcome_summaries

    transaction.on_commit(lambda: rebuild_outcome_summaries.enqueue(organization_id))


def _clinic_date(moment: datetime, zone: str) -> date:
    return timezone.localtime(moment, ZoneInfo(zone)).date()


@transaction.atomic
def refresh_booster_suggestions(
    organization: Organization, *, today: date | None = None, by: User | None = None
) -> list[BoosterSuggestion]:
    """Suggest a booster for each plan in maintenance that is due now or soon (daily job)."""
    today = today or clinic_today(organization.pk)
    rules = current_rules(organization.pk)
    open_plans = set(
        BoosterSuggestion.objects.filter(
            organization=organization, status=BoosterSuggestion.Status.OPEN
        ).values_list("plan_id", flat=True)
    )
    plans = (
        TreatmentPlan.objects.filter(
            organization=organization,
            status=TreatmentPlan.Status.ACTIVE,
            induction_completed_at__isnull=False,
            last_infusion_at__isnull=False,
        )
        .exclude(pk__in=open_plans)
        .select_related("induction_protocol", "booster_protocol")
    )
    zone = clinic_zone(organization.pk)
    made = []
    for episode in load_episodes(plans, instrument_codes=[rules.instrument_code]):
        plan = episode.plan
        assert plan.induction_completed_at
        assert plan.last_infusion_at
        protocol = plan.booster_protocol or plan.induction_protocol
        series_end = plan.induction_completed_at
        since = [
            boosters.DatedScore(_clinic_date(s.taken_at, zone), s.total)
            for s in episode.scores.get(rules.instrument_code, [])
            if s.taken_at >= series_end
        ]
        suggestion = boosters.suggest(
            today=today,
            last_infusion_on=_clinic_date(plan.last_infusion_at, zone),
            scores_since_series=since,
            earlier_effect_days=boosters.effect_durations(episode.booster_dates),
            interval_days_min=max(protocol.booster_interval_days_min, 1),
            interval_days_max=max(
                protocol.booster_interval_days_max,
                protocol.booster_interval_days_min,
                1,
            ),
            rules=rules,
        )
        if suggestion.urgency is boosters.Urgency.NOT_DUE:
            continue
        row = BoosterSuggestion.objects.create(
            organization=organization,
            patient_id=plan.patient_id,
            plan=plan,
            due_on=suggestion.due_on,
            urgency_when_made=suggestion.urgency.value,
            basis=[b.as_dict() for b in suggestion.bases],
            rules_version=rules.version,
            rules=rules.as_dict(),
            last_infusion_on=_clinic_date(plan.last_infusion_at, zone),
            made_at=timezone.now(),
        )
        record(
            AuditEvent.Action.BOOSTER_SUGGESTED,
            actor=by,
            actor_username="" if by else "system",
            organization=organization,
            patient=plan.patient,
            subject=row,
            due_on=row.due_on,
            rules_version=rules.version,
        )
        made.append(row)
    return made


def urgency_today(suggestion: BoosterSuggestion, today: date) -> boosters.Urgency:
    """The suggestion's urgency on `today`, under the rules it was made with."""
    return boosters.urgency_on(
        suggestion.due_on,
        today,
        due_soon_days=int(suggestion.rules.get("due_soon_days", 7)),
        overdue_after_days=int(suggestion.rules.get("overdue_after_days", 7)),
    )


def _open(suggestion: BoosterSuggestion) -> BoosterSuggestion:
    locked = BoosterSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != BoosterSuggestion.Status.OPEN:
        raise OutcomesError("This suggestion has already been decided.")
    return locked


def confirm_booster(
    suggestion: BoosterSuggestion, *, password: str, note: str = "", by: User
) -> BoosterSuggestion:
    """The prescriber confirms: the booster order is signed (password re-entered), audited."""
    if suggestion.status != BoosterSuggestion.Status.OPEN:
        raise OutcomesError("This suggestion has already been decided.")
    plan = TreatmentPlan.objects.select_related("booster_protocol").get(
        pk=suggestion.plan_id
    )
    protocol = plan.booster_protocol
    if protocol is None:
        raise OutcomesError(
            "The plan has no booster protocol: add one to the plan first."
        )
    try:
        order = sign_order(
            plan,
            password=password,
            kind=InfusionOrder.Kind.BOOSTER,
            dose_mg_per_kg=protocol.dose_mg_per_kg,
            duration_minutes=protocol.duration_minutes,
            dosing_weight_rule=protocol.dosing_weight_rule,
            max_dose_mg_per_kg=protocol.max_dose_mg_per_kg,
            max_dose_mg=protocol.max_dose_mg,
            diluent_volume_ml=protocol.diluent_volume_ml,
            rate_min_percent=protocol.rate_min_percent,
            rate_max_percent=protocol.rate_max_percent,
            titration_instructions=protocol.titration_instructions,
            prn=protocol_prn(protocol),
            reason="Booster suggested (rules v"
            f"{suggestion.rules_version}, due {suggestion.due_on:%Y-%m-%d}) and confirmed",
            by=by,
        )
    except TreatmentError as error:
        raise OutcomesError(str(error)) from None
    return _mark_confirmed(suggestion, order=order, note=note, by=by)


@transaction.atomic
def _mark_confirmed(
    suggestion: BoosterSuggestion, *, order: InfusionOrder, note: str, by: User
) -> BoosterSuggestion:
    locked = _open(suggestion)
    locked.status = BoosterSuggestion.Status.CONFIRMED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_note = note.strip()
    locked.order = order
    locked.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "order"]
    )
    record(
        AuditEvent.Action.BOOSTER_CONFIRMED,
        actor=by,
        patient=locked.patient,
        subject=locked,
        order=str(order.uuid),
        rules_version=locked.rules_version,
    )
    return locked


@transaction.atomic
def dismiss_booster(
    suggestion: BoosterSuggestion, *, reason: str, by: User
) -> BoosterSuggestion:
    if not reason.strip():
        raise OutcomesError("Give a reason for dismissing the suggestion.")
    locked = _open(suggestion)
    locked.status = BoosterSuggestion.Status.DISMISSED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_note = reason.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    record(
        AuditEvent.Action.BOOSTER_DISMISSED,
        actor=by,
        patient=locked.patient,
        subject=locked,
        rules_version=locked.rules_version,
    )
    return locked


@transaction.atomic
def book_confirmed_booster(
    suggestion: BoosterSuggestion,
    *,
    location: Location,
    starts_at: datetime,
    booked_via: str = Appointment.BookedVia.STAFF,
    by: User | None,
) -> Appointment:
    """The front desk books the visit for a confirmed booster, through the calendar; or the
    patient picks the time in the portal (by=None, booked_via=patient_portal: the visit is
    recorded as booked by the patient, not by a staff member).

    The scheduling app's `book_appointment` does the booking (room, nurse and devices,
    opening hours, the signed booster order) and audits it; this links the visit to the
    suggestion so the worklist shows it booked. Refused, nothing is written.
    """
    locked = (
        BoosterSuggestion.objects.select_for_update()
        .select_related("patient")
        .get(pk=suggestion.pk)
    )
    if locked.status != BoosterSuggestion.Status.CONFIRMED:
        raise OutcomesError("Only a booster a prescriber has confirmed can be booked.")
    if locked.appointment_id is not None:
        raise OutcomesError("This booster is already booked.")
    if location.organization_id != locked.organization_id:
        raise OutcomesError("Choose a location of the patient's clinic.")
    booster_type = AppointmentType.objects.filter(
        organization_id=locked.organization_id,
        code=AppointmentType.Code.BOOSTER,
        is_active=True,
    ).first()
    if booster_type is None:
        raise OutcomesError("The clinic has no booster appointment type yet.")
    try:
        with transaction.atomic():
            appointment = book_appointment(
                locked.patient,
                appointment_type=booster_type,
                location=location,
                starts_at=starts_at,
                booked_via=booked_via,
                audit_data={"booster_suggestion": str(locked.uuid)},
                by=by,
            )
    except SchedulingError as error:
        raise OutcomesError(error.message) from None
    locked.appointment = appointment
    locked.save(update_fields=["appointment"])
    return appointment
