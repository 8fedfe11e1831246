"""Model rows to FHIR resources: the glue between the apps' models and the pure mappers.

Each function takes rows loaded with what it needs (`select_related` by the caller,
or a batch lookup here), so a page of results costs a fixed number of queries.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import cast
from uuid import UUID

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Role
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.infusions.models import (
    DoseRecord,
    InfusionNote,
    InfusionSession,
    VitalReading,
)
from neuroclinic.intake.models import ConsentSignature
from neuroclinic.interop.fhir.adverse_events import adverse_event_resource
from neuroclinic.interop.fhir.clinical import (
    ImportedFacts,
    PatientFacts,
    Resource,
    VitalFacts,
    condition_resource,
    consent_resource,
    encounter_resource,
    fhir_instant,
    imported_observation_resource,
    medication_administration_resource,
    patient_resource,
    vital_observations,
)
from neuroclinic.interop.fhir.directory import (
    allergy_resource,
    location_resource,
    medication_statement_resource,
    organization_resource,
    practitioner_resource,
    practitioner_role_resource,
)
from neuroclinic.interop.fhir.documents import (
    CONSENT,
    LETTER,
    LETTER_KINDS,
    LETTER_TYPES,
    NURSE_NOTE,
    document_reference,
    pdf_attachment,
    text_attachment,
)
from neuroclinic.interop.fhir.questionnaires import (
    questionnaire_response_resource,
    score_observation_resource,
)
from neuroclinic.interop.fhir.scheduling import (
    appointment_resource,
    cut_shift,
    procedure_resource,
    schedule_resource,
    slot_resource,
)
from neuroclinic.interop.models import ImportedObservation, PatientIdentifier
from neuroclinic.ledger.models import LedgerEntry
from neuroclinic.letters.models import Letter
from neuroclinic.measures.instruments import (
    Score,
    ScoreFlag,
    Severity,
    Triage,
    get_instrument,
    score,
)
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Allergy, Diagnosis, Medication, Patient
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    StaffShift,
)
from neuroclinic.tms.models import AdverseEvent, AdverseEventReview, TmsSession


def patient_facts(
    p: Patient, identifiers: tuple[tuple[str, str], ...] = ()
) -> PatientFacts:
    return PatientFacts(
        id=p.uuid,
        mrn=p.mrn,
        family_name=p.family_name,
        given_name=p.given_name,
        middle_name=p.middle_name,
        preferred_name=p.preferred_name,
        birth_date=p.birth_date,
        sex_at_birth=p.sex_at_birth,
        phone=p.phone,
        email=p.email,
        address_line1=p.address_line1,
        address_line2=p.address_line2,
        city=p.city,
        state=p.state,
        postal_code=p.postal_code,
        preferred_language=p.preferred_language,
        last_updated=p.updated_at,
        identifiers=identifiers,
    )


def patients(rows: Sequence[Patient]) -> list[Resource]:
    """Patients with their outside identifiers (one query for the page or batch)."""
    held: dict[int, list[tuple[str, str]]] = {}
    if rows:
        for patient_id, system, value in PatientIdentifier.objects.filter(
            patient_id__in=[p.pk for p in rows]
        ).values_list("patient_id", "system", "value"):
            held.setdefault(patient_id, []).append((system, value))
    return [patient_resource(patient_facts(p, tuple(held.get(p.pk, ())))) for p in rows]


def versioned(
    resource: Resource, recorded: datetime, ended: datetime | None
) -> Resource:
    """Stamp the version of a chart list entry: it is recorded (version 1) and may
    later be ended (version 2); nothing else about it ever changes."""
    meta = resource.setdefault("meta", {})
    meta["versionId"] = "1" if ended is None else "2"
    meta["lastUpdated"] = fhir_instant(ended if ended is not None else recorded)
    return resource


def conditions(
    rows: Sequence[Diagnosis], *, as_recorded: bool = False
) -> list[Resource]:
    """The entries as they are now, or (`as_recorded`) as first recorded."""
    return [
        versioned(
            condition_resource(
                condition_id=d.uuid,
                patient_id=d.patient.uuid,
                icd10_code=d.icd10_code,
                description=d.description,
                recorded=d.recorded_at,
                ended=None if as_recorded else d.ended_at,
                end_reason="" if as_recorded else d.end_reason,
            ),
            d.recorded_at,
            None if as_recorded else d.ended_at,
        )
        for d in rows
    ]


def _status(r: QuestionnaireResponse, resource: Resource) -> Resource:
    if r.amends_id is not None:
        resource["status"] = "amended"
    return resource


def questionnaire_responses(rows: Sequence[QuestionnaireResponse]) -> list[Resource]:
    out = []
    for r in rows:
        resource = questionnaire_response_resource(
            response_id=r.uuid,
            patient_id=r.patient.uuid,
            instrument=get_instrument(r.instrument_code),
            answers=r.answers,
            authored=r.completed_at,
            author_id=r.entered_by.uuid if r.entered_by else None,
            source=r.source,
        )
        out.append(_status(r, resource))
    return out


def stored_score(r: QuestionnaireResponse) -> Score:
    """The score as recorded when the response was taken (what the clinician saw).

    Scored again only when the stored row cannot say it: an older instrument version,
    or a row with neither total nor triage.
    """
    instrument = get_instrument(r.instrument_code)
    if r.instrument_version == instrument.version and (r.total is not None or r.triage):
        return Score(
            instrument_code=instrument.code,
            instrument_version=instrument.version,
            total=r.total,
            severity=Severity(r.severity) if r.severity else None,
            flags=tuple(ScoreFlag(f) for f in r.flags),
            subscales=dict(r.subscales),
            triage=Triage(r.triage) if r.triage else None,
            safety_alert=r.raises_safety_alert,
        )
    return score(instrument, r.answers, sex=r.sex_for_scoring or None)


def score_observations(rows: Sequence[QuestionnaireResponse]) -> list[Resource]:
    """The scored total of each response: the Observation shares the response's id."""
    out = []
    for r in rows:
        instrument = get_instrument(r.instrument_code)
        result = stored_score(r)
        resource = score_observation_resource(
            observation_id=r.uuid,
            patient_id=r.patient.uuid,
            response_id=r.uuid,
            instrument=instrument,
            score=result,
            effective=r.completed_at,
        )
        if r.amends_id is not None:
            resource["status"] = "amended"
        out.append(resource)
    return out


def vital_id_prefix(reading: VitalReading) -> str:
    """`<session uuid>-<reading number>`: the reading has no UUID of its own, and the
    session's UUID in front keeps the number from being probed on its own."""
    return f"{reading.session.uuid}-{reading.pk}"


def vitals(rows: Sequence[VitalReading], kinds: Sequence[str]) -> list[Resource]:
    out: list[Resource] = []
    for v in rows:
        facts = VitalFacts(
            id_prefix=vital_id_prefix(v),
            patient_id=v.session.patient.uuid,
            encounter_id=v.session.uuid,
            taken_at=v.taken_at,
            systolic_mmhg=v.systolic_mmhg,
            diastolic_mmhg=v.diastolic_mmhg,
            heart_rate_bpm=v.heart_rate_bpm,
            spo2_percent=v.spo2_percent,
            respiratory_rate_per_min=v.respiratory_rate_per_min,
            etco2_mmhg=v.etco2_mmhg,
        )
        out.extend(vital_observations(facts, kinds))
    return out


def imported_observations(rows: Sequence[ImportedObservation]) -> list[Resource]:
    return [
        imported_observation_resource(
            ImportedFacts(
                id=o.uuid,
                patient_id=o.patient.uuid,
                loinc_code=o.loinc_code,
                name=o.name,
                value=o.value,
                unit=o.unit,
                effective_at=o.effective_at,
                imported_at=o.imported_at,
            )
        )
        for o in rows
    ]


def encounters(rows: Sequence[InfusionSession]) -> list[Resource]:
    return [
        encounter_resource(
            encounter_id=s.uuid,
            patient_id=s.patient.uuid,
            status=s.status,
            start=s.checked_in_at,
            end=s.closed_at or s.discharged_at or s.cancelled_at,
            sequence_number=s.sequence_number,
            sequence_total=s.sequence_total,
            location_name=s.location.name,
        )
        for s in rows
    ]


def medication_administrations(rows: Sequence[LedgerEntry]) -> list[Resource]:
    """Ledger administrations, each with its session (Encounter) and latest dose's rate.

    Two queries for the whole page: the sessions, and their dose records.
    """
    refs: set[UUID] = set()
    for e in rows:
        try:
            refs.add(UUID(e.session_ref))
        except ValueError:
            continue
    sessions = {s.uuid: s for s in InfusionSession.objects.filter(uuid__in=refs)}
    rates: dict[int, DoseRecord] = {}
    for record in DoseRecord.objects.filter(session__in=sessions.values()).order_by(
        "calculated_at", "id"
    ):
        rates[record.session_id] = record  # the newest counts
    reversed_ids = set(
        LedgerEntry.objects.filter(reverses__in=[e.pk for e in rows]).values_list(
            "reverses_id", flat=True
        )
    )
    out = []
    for e in rows:
        session: InfusionSession | None
        try:
            session = sessions.get(UUID(e.session_ref))
        except ValueError:
            session = None
        dose: DoseRecord | None = rates.get(session.pk) if session is not None else None
        assert e.patient is not None  # the query selects administrations to a patient
        out.append(
            medication_administration_resource(
                administration_id=e.uuid,
                patient_id=e.patient.uuid,
                encounter_id=session.uuid if session is not None else None,
                performer_id=e.actor.uuid,
                dose_mg=e.quantity_mg,
                start=session.started_at if session is not None else None,
                end=e.occurred_at,
                rate_ml_per_hour=dose.rate_ml_per_hour if dose is not None else None,
                reversed_=e.pk in reversed_ids,
            )
        )
    return out


def consents(rows: Sequence[ConsentSignature]) -> list[Resource]:
    return [
        consent_resource(
            consent_id=c.uuid,
            patient_id=c.patient.uuid,
            kind=c.document.kind,
            title=c.document.title,
            document_id=c.document.uuid,
            document_version=c.document.version,
            signed_at=c.signed_at,
        )
        for c in rows
    ]


def organizations(rows: Sequence[Organization]) -> list[Resource]:
    return [
        organization_resource(
            organization_id=o.uuid,
            name=o.name,
            phone=o.phone,
            email=o.email,
            website=o.website,
            last_updated=o.updated_at,
        )
        for o in rows
    ]


def locations(rows: Sequence[Location]) -> list[Resource]:
    """Locations loaded with `select_related("organization")`."""
    return [
        location_resource(
            location_id=loc.uuid,
            organization_id=loc.organization.uuid,
            name=loc.name,
            line1=loc.address_line1,
            line2=loc.address_line2,
            city=loc.city,
            state=loc.state,
            postal_code=loc.postal_code,
            country=loc.country,
            phone=loc.phone,
            active=loc.is_active,
            last_updated=loc.updated_at,
        )
        for loc in rows
    ]


def practitioners(rows: Sequence[User]) -> list[Resource]:
    return [
        practitioner_resource(
            practitioner_id=u.uuid,
            family_name=u.last_name,
            given_name=u.first_name,
            title=u.title,
            active=u.is_active,
        )
        for u in rows
    ]


def practitioner_roles(rows: Sequence[User]) -> list[Resource]:
    """Staff loaded with `select_related("organization")` and their groups prefetched;
    every staff member works at all of the organization's active locations (the
    accounts app records no narrower assignment). One query for the locations."""
    org_ids = {u.organization_id for u in rows if u.organization_id is not None}
    by_org: dict[int, list[UUID]] = {}
    for loc in Location.objects.filter(
        organization_id__in=org_ids, is_active=True
    ).order_by("name", "id"):
        by_org.setdefault(loc.organization_id, []).append(loc.uuid)
    out = []
    for u in rows:
        assert u.organization is not None  # the query selects staff of a clinic
        names = {g.name for g in u.groups.all()}
        out.append(
            practitioner_role_resource(
                role_id=u.uuid,
                practitioner_id=u.uuid,
                organization_id=u.organization.uuid,
                roles=[(r.value, r.label) for r in Role if r.value in names],
                location_ids=by_org.get(u.organization.pk, []),
                active=u.is_active,
            )
        )
    return out


def allergies(rows: Sequence[Allergy], *, as_recorded: bool = False) -> list[Resource]:
    return [
        versioned(
            allergy_resource(
                allergy_id=a.uuid,
                patient_id=a.patient.uuid,
                substance=a.substance,
                reaction=a.reaction,
                severity=a.severity,
                recorded=a.recorded_at,
                recorder_id=a.recorded_by.uuid,
                ended=None if as_recorded else a.ended_at,
                end_reason="" if as_recorded else a.end_reason,
            ),
            a.recorded_at,
            None if as_recorded else a.ended_at,
        )
        for a in rows
    ]


def medication_statements(
    rows: Sequence[Medication], *, as_recorded: bool = False
) -> list[Resource]:
    return [
        versioned(
            medication_statement_resource(
                statement_id=m.uuid,
                patient_id=m.patient.uuid,
                name=m.name,
                dose=m.dose,
                recorded=m.recorded_at,
                recorder_id=m.recorded_by.uuid,
                ended=None if as_recorded else m.ended_at,
                end_reason="" if as_recorded else m.end_reason,
            ),
            m.recorded_at,
            None if as_recorded else m.ended_at,
        )
        for m in rows
    ]


PdfBytes = dict[UUID, bytes]


def letter_documents(
    rows: Sequence[Letter], pdfs: PdfBytes | None = None
) -> list[Resource]:
    """Signed letters loaded with patient, template, organization and signer, and
    annotated with `last_change` (the newest addendum, else the signature) and
    `amended` (has an addendum). Two contents: the signed Markdown inline, and the
    PDF by url (with size and hash when its bytes are in `pdfs`)."""
    out = []
    for letter in rows:
        if letter.signed_at is None:
            continue
        label = letter.template.get_kind_display()
        out.append(
            document_reference(
                document_id=letter.uuid,
                patient_id=letter.patient.uuid,
                kind="letter",
                doc_type=LETTER_TYPES.get(letter.template.kind, LETTER),
                local_coding={
                    "system": LETTER_KINDS,
                    "code": letter.template.kind,
                    "display": label,
                },
                title=label,
                signed_at=letter.signed_at,
                last_updated=letter.last_change,  # type: ignore[attr-defined]
                amended=bool(letter.amended),  # type: ignore[attr-defined]
                authors=(
                    [("Practitioner", letter.signed_by.uuid)]
                    if letter.signed_by
                    else []
                ),
                authenticator_id=letter.signed_by.uuid if letter.signed_by else None,
                custodian_id=letter.organization.uuid,
                attachments=[
                    text_attachment(
                        text=letter.body,
                        content_type="text/markdown; charset=utf-8",
                        title=label,
                        created=letter.signed_at,
                    ),
                    pdf_attachment(
                        binary_id=letter.uuid,
                        title=f"{label} (PDF)",
                        created=letter.signed_at,
                        data=(pdfs or {}).get(letter.uuid),
                    ),
                ],
            )
        )
    return out


def consent_documents(
    rows: Sequence[ConsentSignature], pdfs: PdfBytes | None = None
) -> list[Resource]:
    """Signed consents (with their stored PDF), loaded with patient, document and
    organization. The patient is the author; no Practitioner authenticates it."""
    return [
        document_reference(
            document_id=c.uuid,
            patient_id=c.patient.uuid,
            kind="consent",
            doc_type=CONSENT,
            title=c.document.title,
            signed_at=c.signed_at,
            last_updated=c.signed_at,
            amended=False,
            authors=[("Patient", c.patient.uuid)],
            authenticator_id=None,
            custodian_id=c.organization.uuid,
            attachments=[
                pdf_attachment(
                    binary_id=c.uuid,
                    title=f"{c.document.title}, version {c.document.version}",
                    created=c.signed_at,
                    data=(pdfs or {}).get(c.uuid),
                )
            ],
            related=[("Consent", c.uuid)],
        )
        for c in rows
    ]


def note_documents(
    rows: Sequence[InfusionNote], pdfs: PdfBytes | None = None
) -> list[Resource]:
    """Signed infusion notes (id: the session's), loaded with the session's patient
    and organization, signer and co-signer, annotated with `last_change` and
    `amended`. The nurse who signed authenticates; a co-signer is a second author."""
    out = []
    for n in rows:
        session = n.session
        authors = [("Practitioner", n.signed_by.uuid)]
        if n.cosigned_by is not None:
            authors.append(("Practitioner", n.cosigned_by.uuid))
        out.append(
            document_reference(
                document_id=session.uuid,
                patient_id=session.patient.uuid,
                kind="infusion-note",
                doc_type=NURSE_NOTE,
                title="Infusion nursing note",
                signed_at=n.signed_at,
                last_updated=n.last_change,  # type: ignore[attr-defined]
                amended=bool(n.amended),  # type: ignore[attr-defined]
                authors=authors,
                authenticator_id=n.signed_by.uuid,
                custodian_id=session.patient.organization.uuid,
                attachments=[
                    pdf_attachment(
                        binary_id=session.uuid,
                        title=f"Infusion note {session.service_date.isoformat()}",
                        created=n.signed_at,
                        data=(pdfs or {}).get(session.uuid),
                    )
                ],
                related=[("Encounter", session.uuid)],
            )
        )
    return out


def appointments(rows: Sequence[Appointment]) -> list[Resource]:
    """Visits loaded with patient, type, location and staff, annotated with
    `last_change` (their latest status change) and `changes` (how many: the
    version, each status change being one)."""
    out = []
    for a in rows:
        resource = appointment_resource(
            appointment_id=a.uuid,
            patient_id=a.patient.uuid,
            status=a.status,
            status_label=a.get_status_display(),
            type_code=a.appointment_type.code,
            type_name=a.appointment_type.name,
            start=a.starts_at,
            end=a.ends_at,
            created=a.created_at,
            last_updated=a.last_change,  # type: ignore[attr-defined]
            location_id=a.location.uuid,
            location_name=a.location.name,
            staff_id=a.staff.uuid if a.staff is not None else None,
            encounter_id=(
                a.infusion_session.uuid if a.infusion_session is not None else None
            ),
        )
        resource["meta"]["versionId"] = str(max(a.changes or 0, 1))  # type: ignore[attr-defined]
        out.append(resource)
    return out


def appointment_versions(
    a: Appointment, changes: Sequence[AppointmentStatusChange]
) -> list[Resource]:
    """Every version of a visit, oldest first: one per status change (the visit's
    append-only history), the newest being the visit as read now.

    Each earlier version is the visit after that change: its status and time, the
    time walked back through the moves after it (a move keeps the start it left,
    and since this branch its end and staff member too). A move that did not keep
    its staff member leaves the practitioner out of the versions before it
    (unknown, not "none"); a move that did not keep its end keeps the duration."""
    current = appointments([a])[0]
    if not changes:
        return [current]
    start, end = a.starts_at, a.ends_at
    staff: UUID | None = a.staff.uuid if a.staff is not None else None
    staff_known = True
    states: list[tuple[AppointmentStatusChange, datetime, datetime, UUID | None]] = []
    for change in reversed(changes):
        states.append((change, start, end, staff if staff_known else None))
        if change.status == Appointment.Status.MOVED:
            data = change.data or {}
            old_start = (
                datetime.fromisoformat(data["old_starts_at"])
                if data.get("old_starts_at")
                else start
            )
            end = (
                datetime.fromisoformat(data["old_ends_at"])
                if data.get("old_ends_at")
                else old_start + (end - start)
            )
            start = old_start
            if "old_staff" in data:
                staff = UUID(data["old_staff"]) if data["old_staff"] else None
            else:
                staff_known = False
    states.reverse()
    labels = dict(Appointment.Status.choices)
    versions: list[Resource] = []
    checked_in = False
    for n, (change, start, end, staff_id) in enumerate(states[:-1], start=1):
        checked_in = checked_in or change.status == Appointment.Status.CHECKED_IN
        version = appointment_resource(
            appointment_id=a.uuid,
            patient_id=a.patient.uuid,
            status=change.status,
            status_label=str(labels.get(change.status, change.status)),
            type_code=a.appointment_type.code,
            type_name=a.appointment_type.name,
            start=start,
            end=end,
            created=a.created_at,
            last_updated=change.at,
            location_id=a.location.uuid,
            location_name=a.location.name,
            staff_id=staff_id,
            encounter_id=(
                a.infusion_session.uuid
                if checked_in and a.infusion_session is not None
                else None
            ),
        )
        version["meta"]["versionId"] = str(n)
        versions.append(version)
    current["meta"]["versionId"] = str(len(states))
    return [*versions, current]


def schedules(rows: Sequence[StaffShift]) -> list[Resource]:
    """Shifts loaded with their staff member and location."""
    return [
        schedule_resource(
            schedule_id=s.uuid,
            practitioner_id=s.user.uuid,
            practitioner_name=s.user.get_full_name() or "Staff",
            location_id=s.location.uuid,
            location_name=s.location.name,
            start=s.starts_at,
            end=s.ends_at,
        )
        for s in rows
    ]


def shift_slots(rows: Sequence[StaffShift]) -> list[list[Resource]]:
    """Each shift's free and busy Slots: busy where one of the staff member's visits
    that holds its time overlaps it. One query for the whole batch."""
    if not rows:
        return []
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    starts = min(s.starts_at for s in rows)
    ends = max(s.ends_at for s in rows)
    for staff_id, start, end in Appointment.objects.filter(
        staff_id__in={s.user_id for s in rows},
        status__in=Appointment.HOLDING,
        starts_at__lt=ends,
        ends_at__gt=starts,
    ).values_list("staff_id", "starts_at", "ends_at"):
        busy.setdefault(staff_id, []).append((start, end))
    return [
        [
            slot_resource(schedule_id=s.uuid, start=start, end=end, busy=is_busy)
            for start, end, is_busy in cut_shift(
                s.starts_at, s.ends_at, busy.get(s.user_id, [])
            )
        ]
        for s in rows
    ]


def procedures(rows: Sequence[TmsSession]) -> list[Resource]:
    """TMS sessions loaded with patient, course (and its location), operator and
    supervising physician."""
    return [
        procedure_resource(
            procedure_id=t.uuid,
            patient_id=t.patient.uuid,
            status=t.status,
            status_label=t.get_status_display(),
            cpt_code=t.cpt_code,
            protocol_name=t.course.protocol_name,
            number=t.number,
            total_sessions=t.course.total_sessions,
            target_text=t.course.target_text,
            start=t.started_at,
            end=t.ended_at,
            operator_id=cast(User, t.operator).uuid,
            supervisor_id=cast(User, t.supervising_physician).uuid,
            location_id=t.course.location.uuid,
            pulses_delivered=t.pulses_delivered,
            pulses_planned=t.pulses_planned,
            output_percent=t.output_percent,
        )
        for t in rows
    ]


def _review(e: AdverseEvent) -> AdverseEventReview | None:
    """The report's signed review, or None (without a query when it was loaded)."""
    try:
        return e.review
    except AdverseEventReview.DoesNotExist:
        return None


def adverse_events(
    rows: Sequence[AdverseEvent], *, as_filed: bool = False
) -> list[Resource]:
    """TMS adverse-event reports loaded with patient, course (and its location),
    session, recorder and review (with its reviewer): as they are now (reviewed, if
    they are), or (`as_filed`) as first filed. Version 1 is the report as filed,
    version 2 the report with its review; neither row ever changes."""
    out = []
    for e in rows:
        review = None if as_filed else _review(e)
        session = e.session
        course = e.course
        if session is not None:
            course_text = (
                f"TMS session {session.number} of {course.total_sessions}"
                f" ({course.protocol_name})"
            )
        else:
            course_text = f"TMS course: {course.protocol_name} (no session named)"
        changed = (
            max(e.recorded_at, review.reviewed_at)
            if review is not None
            else e.recorded_at
        )
        out.append(
            adverse_event_resource(
                event_id=e.uuid,
                patient_id=e.patient.uuid,
                kind=e.kind,
                kind_label=e.get_kind_display(),
                description=e.description,
                severity=e.severity,
                serious=e.serious,
                seriousness_labels=e.seriousness_labels,
                onset=e.onset_at,
                recorded=e.recorded_at,
                recorder_id=cast(User, e.recorded_by).uuid,
                outcome=review.outcome if review is not None else e.outcome,
                outcome_label=(
                    review.get_outcome_display()
                    if review is not None
                    else e.get_outcome_display()
                ),
                location_id=course.location.uuid,
                procedure_id=session.uuid if session is not None else None,
                course_text=course_text,
                causality=review.causality if review is not None else None,
                causality_label=review.get_causality_display() if review else "",
                causality_note=review.note if review is not None else "",
                reviewer_id=(
                    cast(User, review.reviewed_by).uuid if review is not None else None
                ),
                version_id="2" if review is not None else "1",
                last_updated=changed,
            )
        )
    return out
