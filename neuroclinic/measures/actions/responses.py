"""Questionnaire responses: record one (scoring it and raising its alerts), amend one, read the current ones."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.audit.record import record
from neuroclinic.audit.seals import seal_objects
from neuroclinic.measures import schedules
from neuroclinic.measures.actions.alerts import raise_safety_alert
from neuroclinic.measures.actions.common import ALERT_REASONS, MeasuresError
from neuroclinic.measures.instruments import (
    Instrument,
    Score,
    get_instrument,
    score,
)
from neuroclinic.measures.models import (
    DueMeasure,
    PortalLink,
    QuestionnaireResponse,
    SafetyAlert,
)
from neuroclinic.patients.models import Patient


@dataclass(frozen=True)
class Recorded:
    response: QuestionnaireResponse
    alerts: list[SafetyAlert]
    created: bool


@dataclass(frozen=True)
class NewResponse:
    """One response to record: `record_response`'s arguments, for `record_responses`."""

    patient: Patient
    instrument_code: str
    answers: Mapping[str, object]
    source: QuestionnaireResponse.Source
    by: User | None
    completed_at: datetime | None = None
    sex: str | None = None
    submission_key: UUID | None = None
    portal_link: PortalLink | None = None
    amends: QuestionnaireResponse | None = None
    amendment_reason: str = ""


def record_response(
    patient: Patient,
    *,
    instrument_code: str,
    answers: Mapping[str, object],
    source: QuestionnaireResponse.Source,
    completed_at: datetime | None = None,
    sex: str | None = None,
    submission_key: UUID | None = None,
    portal_link: PortalLink | None = None,
    amends: QuestionnaireResponse | None = None,
    amendment_reason: str = "",
    by: User | None,
) -> Recorded:
    """Score and store a response; raise the safety alerts it calls for.

    `by` is the member of staff who entered it; None when the patient did
    (portal, clinic tablet, self-check). Raises `InvalidResponse` (from the
    pure scorer) when the answers cannot be scored: nothing is written then.
    The same `submission_key` twice stores one response and returns it.
    A batch of one: `record_responses` does the work.
    """
    (recorded,) = record_responses(
        [
            NewResponse(
                patient=patient,
                instrument_code=instrument_code,
                answers=answers,
                source=source,
                by=by,
                completed_at=completed_at,
                sex=sex,
                submission_key=submission_key,
                portal_link=portal_link,
                amends=amends,
                amendment_reason=amendment_reason,
            )
        ]
    )
    return recorded


@transaction.atomic
def record_responses(entries: Sequence[NewResponse]) -> list[Recorded]:
    """Record several responses in one transaction, as `record_response` records each.

    The same rules, audit events, alerts and due-measure fulfilments as one call
    of `record_response` per entry in this order, with one INSERT for the
    responses and one locked read of their open due measures instead of one of
    each per response. Any refusal (`InvalidResponse`, `MeasuresError`) writes
    nothing, for any entry. Returns one `Recorded` per entry, in order.
    """
    results: list[Recorded | None] = []
    new: list[tuple[int, QuestionnaireResponse, Score]] = []
    # Earlier entries of this batch by submission key (a key given twice: the
    # second gets the first's response, as a second call would).
    batch_keys: dict[UUID, tuple[int, Patient]] = {}
    existing = _existing_by_key(entries)
    for entry in entries:
        key = entry.submission_key
        if key is not None:
            found = existing.get(key)
            earlier = batch_keys.get(key)
            owner = (
                found.patient_id
                if found is not None
                else earlier[1].pk
                if earlier is not None
                else None
            )
            if owner is not None and owner != entry.patient.pk:
                raise MeasuresError("That submission key belongs to another response.")
            if found is not None:
                results.append(
                    Recorded(found, list(found.safety_alerts.all()), created=False)
                )
                continue
            if earlier is not None:
                results.append(None)  # filled in below, from the earlier entry
                continue
            batch_keys[key] = (len(results), entry.patient)
        instrument = get_instrument(entry.instrument_code)
        result = score(instrument, entry.answers, sex=entry.sex)
        new.append((len(results), _response(entry, instrument, result), result))
        results.append(None)

    created = _insert([response for _, response, _ in new])
    inserted: list[tuple[int, QuestionnaireResponse, Score]] = []
    for (index, response, result), stored in zip(new, created, strict=True):
        if isinstance(stored, Recorded):
            results[index] = stored  # a concurrent double submit won the race
        else:
            inserted.append((index, response, result))
    for index, response, result in inserted:
        entry = entries[index]
        record(
            AuditEvent.Action.RESPONSE_RECORDED,
            actor=entry.by,
            patient=entry.patient,
            subject=response,
            instrument=response.instrument_code,
            total=result.total,
            source=entry.source,
        )
        alerts = []
        if result.safety_alert:
            for flag in result.flags:
                reason = ALERT_REASONS.get(flag)
                if reason is not None:
                    alerts.append(
                        raise_safety_alert(
                            entry.patient,
                            reason=reason,
                            response=response,
                            by=entry.by,
                            portal_link=entry.portal_link,
                        )
                    )
        results[index] = Recorded(response, alerts, created=True)
    _fulfil_due_measures([response for _, response, _ in inserted])
    done: list[Recorded] = []
    for index, entry in enumerate(entries):
        recorded = results[index]
        if recorded is None:
            # A key given earlier in this batch: the earlier entry's response.
            assert entry.submission_key is not None
            first = results[batch_keys[entry.submission_key][0]]
            assert first is not None
            recorded = Recorded(first.response, list(first.alerts), created=False)
        done.append(recorded)
    return done


def _existing_by_key(
    entries: Sequence[NewResponse],
) -> dict[UUID, QuestionnaireResponse]:
    keys = {e.submission_key for e in entries if e.submission_key is not None}
    if not keys:
        return {}
    return {
        response.submission_key: response
        for response in QuestionnaireResponse.objects.filter(submission_key__in=keys)
        if response.submission_key is not None
    }


def _response(
    entry: NewResponse, instrument: Instrument, result: Score
) -> QuestionnaireResponse:
    patient, amends = entry.patient, entry.amends
    return QuestionnaireResponse(
        organization_id=patient.organization_id,
        patient=patient,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        answers=dict(entry.answers),
        sex_for_scoring=entry.sex or "",
        total=result.total,
        severity=str(result.severity or ""),
        flags=[str(f) for f in result.flags],
        subscales=dict(result.subscales),
        triage=str(result.triage or ""),
        raises_safety_alert=result.safety_alert,
        source=entry.source,
        entered_by=entry.by,
        completed_at=entry.completed_at or timezone.now(),
        submission_key=entry.submission_key,
        portal_link=entry.portal_link,
        amends=amends,
        amendment_reason=entry.amendment_reason,
        version=amends.version + 1 if amends is not None else 1,
    )


def _insert(
    responses: list[QuestionnaireResponse],
) -> list[QuestionnaireResponse | Recorded]:
    """Store the responses (one INSERT) and seal them.

    A concurrent double submit with the same key makes the INSERT fail: then each
    is stored on its own, and one whose key another transaction stored gives that
    response instead (a `Recorded` with created=False).
    """
    if not responses:
        return []
    stored: list[QuestionnaireResponse | Recorded]
    if len(responses) == 1:
        stored = [_insert_one(responses[0])]
    else:
        try:
            with transaction.atomic():
                QuestionnaireResponse.objects.bulk_create(responses)
        except IntegrityError:
            for response in responses:
                response.pk = None
                response._state.adding = True
            stored = [_insert_one(response) for response in responses]
        else:
            stored = list(responses)
    # bulk_create sends no post_save: seal the new rows here.
    seal_objects([r for r in stored if isinstance(r, QuestionnaireResponse)])
    return stored


def _insert_one(response: QuestionnaireResponse) -> QuestionnaireResponse | Recorded:
    try:
        with transaction.atomic():
            QuestionnaireResponse.objects.bulk_create([response])
    except IntegrityError:
        if response.submission_key is None:
            raise
        # A concurrent double submit with the same key won the race.
        existing = QuestionnaireResponse.objects.get(
            submission_key=response.submission_key
        )
        if existing.patient_id != response.patient_id:
            raise MeasuresError(
                "That submission key belongs to another response."
            ) from None
        return Recorded(existing, list(existing.safety_alerts.all()), created=False)
    return response


def _fulfil_due_measures(responses: Sequence[QuestionnaireResponse]) -> None:
    """Complete, for each response in turn, the open due measure it fulfils.

    The open items of the responses' patients and instruments are read (and
    locked) once; each response takes the first open one of its own patient and
    instrument that it fulfils, as `schedules.first_open` says, in the order given.
    """
    if not responses:
        return
    codes = sorted({r.instrument_code for r in responses})
    patient_ids = sorted({r.patient_id for r in responses})
    open_items: dict[tuple[int, str], list[DueMeasure]] = {}
    for start in range(0, len(patient_ids), _PATIENTS_PER_READ):
        chunk = patient_ids[start : start + _PATIENTS_PER_READ]
        for item in (
            DueMeasure.objects.select_for_update()
            .filter(
                patient_id__in=chunk,
                instrument_code__in=codes,
                status=DueMeasure.Status.DUE,
            )
            .order_by("due_at", "id")
        ):
            open_items.setdefault((item.patient_id, item.instrument_code), []).append(
                item
            )
    for response in responses:
        items = open_items.get((response.patient_id, response.instrument_code))
        if not items:
            continue
        index = schedules.first_open(
            [(item.due_at, item.overdue_at) for item in items],
            completed_at=response.completed_at,
        )
        if index is not None:
            item = items.pop(index)
            item.status = DueMeasure.Status.COMPLETED
            item.response = response
            item.save(update_fields=["status", "response"])


_PATIENTS_PER_READ = 500  # ids per IN (...): under SQLite's variable limit


@transaction.atomic
def amend_response(
    original: QuestionnaireResponse,
    *,
    answers: Mapping[str, object],
    reason: str,
    by: User,
) -> Recorded:
    """A corrected version of a response; the original stays as it was."""
    if not reason.strip():
        raise MeasuresError("Say why the response is amended.", field="reason")
    if QuestionnaireResponse.objects.filter(amends=original).exists():
        raise MeasuresError(
            "This version was already amended; amend the newest version."
        )
    recorded = record_response(
        original.patient,
        instrument_code=original.instrument_code,
        answers=answers,
        source=QuestionnaireResponse.Source.STAFF,
        completed_at=original.completed_at,
        sex=original.sex_for_scoring or None,
        amends=original,
        amendment_reason=reason.strip(),
        by=by,
    )
    amended = recorded.response
    record(
        AuditEvent.Action.RESPONSE_AMENDED,
        actor=by,
        patient=original.patient,
        subject=amended,
        amends=str(original.uuid),
        reason=reason.strip(),
    )
    return recorded


def current_responses(patient: Patient) -> Any:
    """The patient's responses without those an amendment replaced."""
    return QuestionnaireResponse.objects.filter(
        patient=patient, amended_by__isnull=True
    )
