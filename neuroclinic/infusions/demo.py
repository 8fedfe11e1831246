"""Demo infusion days: completed induction series and boosters, two patients mid-series,
one whose ketamine consent changed, and one infusion running now. All synthetic.

Everything goes through the real actions with the clock set to the time of each step
(`now=`), so the ledger, measures and audit trail agree with the infusion records:
- the series run at the Riverside Annex, under its own DEA registration and stock, set
  up here (the Lakeside ledger history belongs to the ledger demo), one draw,
  administration and witnessed waste per infusion (synthetic witness confirmations);
- each patient's series starts on the Monday after their baseline PHQ-9 in the
  measures demo; the PHQ-9 before each infusion and 24 hours after it follow the same
  course (remits, responds, relapses, no response), and relapsing patients get boosters;
- the clinic publishes version 2 of its ketamine consent after the series: the patients
  due now re-sign it, one does not yet (the checklist's hard stop).
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_UP, Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.clinics.demo import DEMO_PASSWORD, DemoContext
from neuroclinic.clinics.models import Device, Location, Room
from neuroclinic.infusions.actions import (
    dose_draw,
    events,
    monitoring,
    notes,
    recovery_discharge,
    session_flow,
)
from neuroclinic.infusions.models import DoseRecord, InfusionSession, VitalReading
from neuroclinic.intake.actions import consents, eligibility_decisions
from neuroclinic.intake.checks import consent_states
from neuroclinic.intake.demo import signature_png
from neuroclinic.intake.models import (
    ConsentDocument,
    ConsentSignature,
    EligibilityDecision,
)
from neuroclinic.ledger.actions.inventory import take_inventory
from neuroclinic.ledger.actions.receiving import ReceiptItem, receive_invoice
from neuroclinic.ledger.actions.setup import (
    add_product,
    add_storage_location,
    add_supplier,
    register_registrant,
)
from neuroclinic.ledger.checks import run_check
from neuroclinic.ledger.models import (
    Container,
    Inventory,
    LedgerCheck,
    Product,
    Registrant,
    StorageLocation,
    Supplier,
)
from neuroclinic.ledger.witness import METHOD_SYNTHETIC, WitnessConfirmation
from neuroclinic.measures.actions.responses import record_response
from neuroclinic.measures.demo import COURSES, answers_for
from neuroclinic.measures.models import DueMeasure, QuestionnaireResponse, SafetyAlert
from neuroclinic.patients.models import Patient
from neuroclinic.treatment.actions.orders import _sign_order, active_order, protocol_prn
from neuroclinic.treatment.actions.plans import create_plan, end_plan
from neuroclinic.treatment.actions.protocols import install_default_protocols
from neuroclinic.treatment.defaults import ProtocolKind
from neuroclinic.treatment.models import (
    InfusionOrder,
    PrnOrder,
    Protocol,
    TreatmentPlan,
)

RIVERSIDE_DEA = "BR2468139"  # check digit: 2+6+1 + 2*(4+8+3) = 39
HISTORY_PATIENTS = 5
INDUCTION_DAYS = (0, 2, 4, 7, 9, 11)  # Mon, Wed, Fri, Mon, Wed, Fri
BOOSTER_DAYS = {
    "relapses": (49, 63),
    "remits": (56,),
    "responds": (42,),
    "no_response": (),
}
TENTH = Decimal("0.1")
MONITOR_BATCH_MINUTES = 20


@dataclass
class Clinic:
    context: DemoContext
    annex: Location
    main: Location
    registrant: Registrant
    safe: StorageLocation
    product: Product
    supplier: Supplier
    invoice: int = 7100
    # Read once per room and per order: neither changes while the demo loads.
    monitors: dict[int, Device] = field(default_factory=dict)
    ondansetron: dict[int, PrnOrder | None] = field(default_factory=dict)

    @property
    def staff(self) -> dict[str, User]:
        return self.context.staff

    @property
    def rng(self) -> random.Random:
        return self.context.rng


@dataclass(frozen=True)
class Started:
    """An infusion just started, with what the nurse charted on the way."""

    session: InfusionSession
    dose: DoseRecord
    baseline_systolic: int


@dataclass
class Person:
    patient: Patient
    course: str
    baseline_total: int
    baseline_at: datetime
    weight_kg: Decimal
    height_cm: Decimal


def _synthetic(user: User, at: datetime) -> WitnessConfirmation:
    return WitnessConfirmation(witness=user, confirmed_at=at, method=METHOD_SYNTHETIC)


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def _monday_after(moment: datetime, zone: ZoneInfo) -> date:
    day = moment.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


def _course_total(person: Person, when: datetime) -> int:
    """The PHQ-9 total on the patient's course (the measures demo's weekly multipliers)."""
    weeks = max(0.0, (when - person.baseline_at).total_seconds() / (7 * 86400))
    factors = COURSES[person.course]
    low = min(int(weeks), len(factors) - 1)
    high = min(low + 1, len(factors) - 1)
    factor = factors[low] + (factors[high] - factors[low]) * (weeks - int(weeks))
    return max(0, min(26, round(person.baseline_total * factor)))


def _phq9(person: Person, at: datetime, rng: random.Random) -> None:
    total = max(0, _course_total(person, at) + rng.choice((-1, 0, 0, 1)))
    record_response(
        person.patient,
        instrument_code="phq9",
        answers=answers_for("phq9", total, rng),
        source=QuestionnaireResponse.Source.KIOSK,
        by=None,
        completed_at=at,
    )


# --- setup ------------------------------------------------------------------------------


def _clinic(context: DemoContext, start: datetime) -> Clinic:
    organization = context.organization
    custodian, nurse = context.staff["custodian"], context.staff["nurse"]
    locations = list(Location.objects.filter(organization=organization).order_by("id"))
    main, annex = locations[0], locations[-1]
    registrant = register_registrant(
        annex,
        name=f"{organization.name} — {annex.name}",
        address_line1=annex.address_line1,
        city=annex.city,
        state=annex.state,
        postal_code=annex.postal_code,
        dea_number=RIVERSIDE_DEA,
        by=custodian,
    )
    safe = add_storage_location(
        registrant,
        name="Annex safe",
        description="Treatment corridor, double-locked",
        by=custodian,
    )
    product = Product.objects.filter(
        organization=organization, concentration_mg_per_ml=Decimal(50)
    ).first() or add_product(
        organization,
        name="Ketamine HCl injection (demo)",
        ndc="99999-0501-10",
        concentration_mg_per_ml=Decimal(50),
        container_volume_ml=Decimal(10),
        by=custodian,
    )
    supplier = Supplier.objects.filter(
        organization=organization, kind=Supplier.Kind.DISTRIBUTOR
    ).first() or add_supplier(
        organization,
        name="Example Medical Supply (demo)",
        address="1 Warehouse Way, Chicago, IL 60601",
        dea_number="RE6125341",
        by=custodian,
    )
    take_inventory(
        registrant,
        kind=Inventory.Kind.INITIAL,
        time_of_day=Inventory.TimeOfDay.OPENING,
        lines=[],
        by=custodian,
        second_taker=_synthetic(nurse, start),
        notes="Initial inventory before the Annex's first ketamine order: nothing on hand.",
        taken_at=start,
    )
    clinic = Clinic(context, annex, main, registrant, safe, product, supplier)
    _receive(clinic, start + timedelta(hours=1))
    return clinic


def _receive(clinic: Clinic, at: datetime) -> None:
    clinic.invoice += 1
    receive_invoice(
        clinic.registrant,
        supplier=clinic.supplier,
        invoice_number=f"EMS-{clinic.invoice}",
        invoice_date=(at - timedelta(days=1)).date(),
        storage_location=clinic.safe,
        items=[
            ReceiptItem(
                product=clinic.product,
                lot_number=f"KR{clinic.invoice % 97:02d}B",
                expiry_date=(at + timedelta(days=420)).date(),
                container_count=6,
            )
        ],
        by=clinic.staff["custodian"],
        received_at=at,
    )


def _vial(clinic: Clinic, volume_ml: Decimal, at: datetime) -> Container:
    def usable() -> Container | None:
        return (
            Container.objects.filter(
                registrant=clinic.registrant,
                status__in=[Container.Status.OPEN, Container.Status.SEALED],
                balance_ml__gte=volume_ml,
            )
            .order_by("-status", "lot__expiry_date", "id")
            .first()
        )

    vial = usable()
    if vial is None:
        _receive(clinic, at - timedelta(hours=1))
        vial = usable()
    assert vial is not None
    return vial


def _eligible(patient: Patient, context: DemoContext) -> None:
    """Eligibility signed by the prescriber."""
    eligibility_decisions.decide_eligibility(
        patient,
        by=context.staff["prescriber"],
        password=DEMO_PASSWORD,
        outcome=EligibilityDecision.Outcome.ELIGIBLE,
        # A demo patient may have no intake packet: eligible over unanswered facts is an
        # override, and an override says why.
        reason="Demo patient: history taken at the consultation (synthetic).",
    )


def _ketamine_consents(
    patients: list[Patient], context: DemoContext
) -> list[consents.ConsentToSign]:
    """The three ketamine consents each patient signs (portal), in one batch."""
    current = {
        d.kind: d
        for d in ConsentDocument.objects.filter(
            organization=context.organization
        ).order_by("version")
    }
    return [
        consents.ConsentToSign(
            patient,
            current[kind],
            typed_name=patient.legal_name,
            signature_png=signature_png(index * 7 + n),
            ip_address="127.0.0.1",
            channel=ConsentSignature.Channel.PORTAL,
        )
        for index, patient in enumerate(patients)
        for n, kind in enumerate(("ketamine", "privacy", "financial"))
    ]


def _plan(
    patient: Patient, context: DemoContext, protocols: dict[str, Protocol], at: datetime
) -> TreatmentPlan:
    prescriber = context.staff["prescriber"]
    plan = create_plan(
        patient,
        induction_protocol=protocols[ProtocolKind.INDUCTION],
        booster_protocol=protocols[ProtocolKind.BOOSTER],
        indication="Treatment-resistant depression (demo)",
        by=prescriber,
        now=at,
    )
    _order(plan, context, ProtocolKind.INDUCTION, at + timedelta(minutes=20))
    return plan


def _order(
    plan: TreatmentPlan, context: DemoContext, kind: ProtocolKind, at: datetime
) -> InfusionOrder:
    protocol = (
        plan.induction_protocol
        if kind is ProtocolKind.INDUCTION
        else plan.booster_protocol
    )
    assert protocol is not None
    order = _sign_order(  # signed without the password check, as above
        plan,
        kind=kind,
        by=context.staff["prescriber"],
        dose_mg_per_kg=protocol.dose_mg_per_kg,
        duration_minutes=protocol.duration_minutes,
        dosing_weight_rule=protocol.dosing_weight_rule,
        max_dose_mg_per_kg=protocol.max_dose_mg_per_kg,
        max_dose_mg=protocol.max_dose_mg,
        diluent_volume_ml=protocol.diluent_volume_ml,
        rate_min_percent=protocol.rate_min_percent,
        rate_max_percent=protocol.rate_max_percent,
        titration_instructions="",
        prn=protocol_prn(protocol),
        now=at,
    )
    return order


# --- one infusion -----------------------------------------------------------------------


def _vitals(
    rng: random.Random,
    *,
    systolic: int,
    heart: int,
    spo2: int = 98,
    diastolic: int | None = None,
) -> dict[str, int]:
    diastolic = diastolic or systolic - rng.randint(38, 50)
    return {
        "systolic_mmhg": systolic,
        "diastolic_mmhg": diastolic,
        "heart_rate_bpm": heart,
        "spo2_percent": spo2,
        "respiratory_rate_per_min": rng.randint(12, 17),
    }


def _monitor(clinic: Clinic, room: Room) -> Device:
    device = clinic.monitors.get(room.pk)
    if device is None:
        device = Device.objects.filter(room=room, kind=Device.Kind.MONITOR).first()
        assert device is not None, f"{room} has no monitor"
        clinic.monitors[room.pk] = device
    return device


def _ondansetron(clinic: Clinic, session: InfusionSession) -> PrnOrder | None:
    if session.order_id not in clinic.ondansetron:
        clinic.ondansetron[session.order_id] = session.order.prn_medications.filter(
            drug="Ondansetron"
        ).first()
    return clinic.ondansetron[session.order_id]


def _check_in_to_start(
    clinic: Clinic, person: Person, room: Room, t0: datetime, *, ordinal: int
) -> Started:
    """Check-in, checklist, baseline vitals, dose, draw and start, as the nurse does them."""
    rng = clinic.rng
    nurse = clinic.staff["nurse"]
    patient = person.patient
    # The synthetic history may not keep the protocol's rhythm (issue #14 item 9): where
    # it does not, the check-in records this reason (dropped where none is needed).
    session = session_flow.check_in(
        patient,
        room=room,
        by=nurse,
        now=t0,
        spacing_override_reason="Demo history (synthetic schedule)",
    )
    # Done on the clinic tablet before check-in, on the same clinic day (the checklist
    # wants today's: a check-in just after midnight has it just after midnight);
    # recorded after the check-in, so it fulfils the before-infusion PHQ-9 it scheduled.
    zone = ZoneInfo(room.location.time_zone)
    midnight = datetime.combine(t0.astimezone(zone).date(), time(0), tzinfo=zone)
    _phq9(person, max(t0 - timedelta(minutes=25), midnight), rng)
    # The check-in filled in the patient's escort contact, if any; the nurse confirms it.
    escort = session.escort_name
    in_pounds = ordinal % 3 == 1
    weight = (
        str((person.weight_kg / Decimal("0.45359237")).quantize(Decimal(1)))
        if in_pounds
        else str(person.weight_kg)
    )
    applies = patient.sex_at_birth == "female" and patient.age_on(t0.date()) <= 55
    session_flow.save_checklist(
        session,
        by=nurse,
        weight=weight,
        weight_unit="lb" if in_pounds else "kg",
        height_cm=person.height_cm,
        last_solids_at=t0 - timedelta(hours=rng.randint(8, 13)),
        last_clear_liquids_at=t0
        - timedelta(hours=rng.randint(2, 4), minutes=rng.randint(0, 50)),
        escort_name=escort or "Escort (demo)",
        escort_phone=session.escort_phone if escort else "555-0199",
        escort_confirmed=True,
        pregnancy_status=(
            InfusionSession.PregnancyStatus.REPORTED_NOT_PREGNANT
            if applies
            else InfusionSession.PregnancyStatus.NOT_APPLICABLE
        ),
        now=t0 + timedelta(minutes=2),
    )
    baseline = rng.randint(118, 136)
    monitoring.record_typed_vitals(
        session,
        _vitals(rng, systolic=baseline, heart=rng.randint(64, 84)),
        by=nurse,
        taken_at=t0 + timedelta(minutes=4),
        now=t0 + timedelta(minutes=4),
    )
    session_flow.confirm_checklist(session, by=nurse, now=t0 + timedelta(minutes=6))
    dose = dose_draw.calculate_dose(
        session,
        by=nurse,
        concentration_mg_per_ml=Decimal(50),
        now=t0 + timedelta(minutes=7),
    )
    drawn = (dose.drug_volume_ml + TENTH).quantize(TENTH, ROUND_UP)
    dose_draw.draw(
        session,
        by=nurse,
        container=_vial(clinic, drawn, t0),
        volume_ml=drawn,
        now=t0 + timedelta(minutes=9),
    )
    start = t0 + timedelta(minutes=12)
    # The started session as saved (the action's locked row, with its new state).
    session = session_flow.start(session, by=nurse, occurred_at=start, now=start)
    return Started(session, dose, baseline)


def _infusion(
    clinic: Clinic,
    person: Person,
    room: Room,
    t0: datetime,
    *,
    ordinal: int,
    stop_early: bool = False,
    hypertensive: bool = False,
) -> InfusionSession:
    """A whole infusion day in the past, ending in a signed (and co-signed) note."""
    rng = clinic.rng
    nurse, prescriber = clinic.staff["nurse"], clinic.staff["prescriber"]
    started = _check_in_to_start(clinic, person, room, t0, ordinal=ordinal)
    session, dose, baseline = started.session, started.dose, started.baseline_systolic
    assert session.started_at is not None
    start = session.started_at
    monitor = _monitor(clinic, room)
    minutes = 30 if stop_early else dose.duration_minutes
    end = start + timedelta(minutes=minutes)
    batch: list[dict[str, object]] = []
    for m in range(5, minutes + 1, 5):
        rise = round(min(m, 40) / 40 * rng.randint(6, 16))
        values = _vitals(rng, systolic=baseline + rise, heart=rng.randint(70, 92))
        if hypertensive and m in (20, 25):
            values = _vitals(rng, systolic=184 + m // 5, heart=96, diastolic=104)
        taken = start + timedelta(minutes=m, seconds=-20)
        batch.append(
            {"device": str(monitor.uuid), "taken_at": taken.isoformat(), **values}
        )
        # The monitor sends its readings in batches, every MONITOR_BATCH_MINUTES (one
        # reading at a time on the day with the alarms, which are acknowledged as they
        # come); the alarm rules run on each batch. A batch per reading made the
        # monitor feed a tenth of the demo's time (issue 18, item 10).
        if not hypertensive and m % MONITOR_BATCH_MINUTES and m + 5 <= minutes:
            continue
        result = monitoring.ingest_readings(
            session,
            batch,
            source=VitalReading.Source.MONITOR,
            by=None,
            now=taken + timedelta(seconds=5),
        )
        batch = []
        for alarm in result.alarms:
            if alarm.acknowledged_at is None:
                monitoring.acknowledge_alarm(
                    alarm,
                    by=nurse,
                    note="Slowed the pump, BP rechecked, no symptoms (demo).",
                    now=taken + timedelta(minutes=1),
                )
    if hypertensive:
        events.record_adverse_event(
            session,
            by=nurse,
            kind="hypertension",
            severity="moderate",
            onset_at=start + timedelta(minutes=20),
            description="BP above 180/110 on two readings, no headache or chest pain",
            intervention="Rate slowed; prescriber informed",
            now=start + timedelta(minutes=26),
        )
    events.record_sedation(
        session,
        by=nurse,
        score=rng.choice((4, 5, 5)),
        assessed_at=start + timedelta(minutes=20),
        now=start + timedelta(minutes=20),
    )
    if rng.random() < 0.3 or ordinal == 0:
        event = events.record_adverse_event(
            session,
            by=nurse,
            kind="nausea",
            severity="mild",
            onset_at=start + timedelta(minutes=18),
            description="Queasy, no vomiting",
            now=start + timedelta(minutes=19),
        )
        ondansetron = _ondansetron(clinic, session)
        if ondansetron is not None:
            events.give_prn(
                session,
                by=nurse,
                prn_order=ondansetron,
                adverse_event=event,
                given_at=start + timedelta(minutes=20),
                now=start + timedelta(minutes=21),
            )
    if stop_early:
        events.record_adverse_event(
            session,
            by=nurse,
            kind="anxiety",
            severity="moderate",
            onset_at=start + timedelta(minutes=27),
            description="Distressed by the dissociation; asked to stop",
            intervention="Stopped, reassured in a quiet room",
            now=start + timedelta(minutes=29),
        )
    # Dissociation is transient and attenuates with repeated infusions (K4).
    points = [0] * 6
    for n in range(max(0, 9 - ordinal + rng.randint(-2, 2))):
        points[n % 6] = min(4, points[n % 6] + 1)
    events.record_cadss6(
        session,
        by=nurse,
        answers={f"cadss6-{n + 1}": p for n, p in enumerate(points)},
        now=end - timedelta(minutes=2),
    )
    volume = (dose.total_volume_ml * minutes / dose.duration_minutes).quantize(
        Decimal("0.01")
    )
    session_flow.stop(
        session,
        by=nurse,
        reason="Patient asked to stop (anxiety)" if stop_early else "",
        completed=not stop_early,
        volume_infused_ml=volume,
        occurred_at=end,
        now=end,
        # The weekly PHQ-9 after a series long past is in the measures demo already.
        schedule=end > timezone.now() - timedelta(days=7),
    )
    recovery = [
        {
            "device": str(monitor.uuid),
            "taken_at": (end + timedelta(minutes=m)).isoformat(),
            **_vitals(
                rng, systolic=baseline + rng.randint(0, 8), heart=rng.randint(64, 82)
            ),
        }
        for m in (15, 30)
    ]
    monitoring.ingest_readings(
        session,
        recovery,
        source=VitalReading.Source.MONITOR,
        by=None,
        now=end + timedelta(minutes=31),
    )
    recovery_discharge.assess_recovery(
        session,
        by=nurse,
        activity=2,
        respiration=2,
        circulation=2,
        consciousness=2,
        spo2=2,
        moaas_score=5,
        now=end + timedelta(minutes=33),
    )
    escort = session.escort_name
    recovery_discharge.discharge(
        session,
        by=nurse,
        escort_name=escort,
        instructions_channel="paper",
        now=end + timedelta(minutes=36),
    )
    outstanding = dose_draw.ledger_summary(session).outstanding_ml
    if outstanding > 0:
        waste_at = end + timedelta(minutes=38)
        dose_draw.waste(
            session,
            by=nurse,
            volume_ml=outstanding,
            witness=_synthetic(clinic.staff["custodian"], waste_at),
            now=waste_at,
        )
    # Signed without re-typing the password, like the synthetic witness confirmations:
    # an argon2 check per signature would make loading the demo take minutes.
    note = notes._sign_note(session, by=nurse, now=end + timedelta(minutes=40))
    notes._cosign_note(note, by=prescriber, now=end + timedelta(hours=3))
    after = end + timedelta(hours=24)
    if after < timezone.now():
        _phq9(person, after, rng)
    return session


# --- the demo ---------------------------------------------------------------------------


def _people(context: DemoContext) -> tuple[list[Person], list[Person]]:
    """Patients with a measures history (for the completed series) and without (mid-series)."""
    rng = context.rng
    taken = {p.pk for p in context.patients[:6]}  # intake's stages
    alerts = set(SafetyAlert.objects.values_list("patient_id", flat=True))
    due = set(DueMeasure.objects.values_list("patient_id", flat=True))
    # Each patient's first PHQ-9, in one read.
    firsts: dict[int, tuple[datetime, int | None]] = {}
    for patient_id, completed_at, total in (
        QuestionnaireResponse.objects.filter(
            patient__in=context.patients, instrument_code="phq9"
        )
        .order_by("patient_id", "completed_at", "id")
        .values_list("patient_id", "completed_at", "total")
    ):
        firsts.setdefault(patient_id, (completed_at, total))
    with_history: list[Person] = []
    fresh: list[Person] = []
    for index, patient in enumerate(context.patients):
        if patient.pk in taken or patient.pk in alerts:
            continue
        first = firsts.get(patient.pk)
        person = Person(
            patient=patient,
            course=list(COURSES)[index % len(COURSES)],
            baseline_total=(first[1] or 18) if first else rng.randint(16, 23),
            baseline_at=first[0] if first else timezone.now() - timedelta(days=9),
            weight_kg=Decimal(rng.randint(56, 108)),
            height_cm=Decimal(rng.randint(156, 192)),
        )
        if first is not None:
            with_history.append(person)
        elif patient.pk not in due:
            fresh.append(person)
    return with_history, fresh


def _rooms(location: Location) -> list[Room]:
    return list(
        Room.objects.filter(location=location, kind=Room.Kind.INFUSION).order_by("name")
    )


def load(context: DemoContext) -> None:
    director, prescriber = context.staff["director"], context.staff["prescriber"]
    rng = context.rng
    with_history, fresh = _people(context)
    history = with_history[:HISTORY_PATIENTS]
    current = (fresh + with_history[HISTORY_PATIENTS:])[:3]
    now = timezone.now()
    earliest = min([p.baseline_at for p in history] + [now - timedelta(days=14)])
    start = earliest - timedelta(days=3)

    protocols = {
        p.kind: p
        for p in install_default_protocols(
            context.organization,
            by=director,
            password=DEMO_PASSWORD,
            # The demo tablet has one nurse signed in; the director says so, as the
            # protocol requires (issue #14).
            changes={"second_check_required": False},
            change_note=(
                "Demo clinic: one nurse per demo tablet; a real clinic keeps the second "
                "nurse's dose check on."
            ),
            now=start - timedelta(days=9),
        )
    }
    clinic = _clinic(context, start)
    zone = ZoneInfo(clinic.annex.time_zone)
    rooms = _rooms(clinic.annex)

    # Eligible, then the three consents signed; the consents in one batch, so that
    # their PDFs are rendered side by side (consents.sign_consents).
    for person in history + current:
        _eligible(person.patient, context)
    consents.sign_consents(
        _ketamine_consents([p.patient for p in history + current], context)
    )
    for person in current:
        if person.baseline_at > now - timedelta(days=10):
            for code, total in (
                ("phq9", person.baseline_total),
                ("gad7", rng.randint(9, 15)),
            ):
                record_response(
                    person.patient,
                    instrument_code=code,
                    answers=answers_for(code, total, rng),
                    source=QuestionnaireResponse.Source.PORTAL,
                    by=None,
                    completed_at=person.baseline_at,
                )

    # Every past infusion, in time order (the ledger is a chronology).
    planned: list[tuple[datetime, Person, str, int]] = []
    for n, person in enumerate(history):
        monday = _monday_after(person.baseline_at, zone)
        for ordinal, offset in enumerate(INDUCTION_DAYS):
            day = monday + timedelta(days=offset)
            planned.append(
                (
                    _at(day, 9 + (n % 4) * 2, 10 * (ordinal % 3), zone),
                    person,
                    "induction",
                    ordinal,
                )
            )
        for ordinal, offset in enumerate(BOOSTER_DAYS[person.course]):
            day = monday + timedelta(days=offset)
            at = _at(day, 10 + n % 3, 15, zone)
            if at < now - timedelta(days=1):
                planned.append((at, person, "booster", 6 + ordinal))
    today = now.astimezone(zone).date()
    for n, (person, done) in enumerate(zip(current, (2, 2, 1), strict=False)):
        days = (
            [today - timedelta(days=d) for d in (5, 3)][-done:]
            if done == 2
            else [today - timedelta(days=3)]
        )
        for ordinal, day in enumerate(days):
            planned.append((_at(day, 9 + n, 30, zone), person, "induction", ordinal))
    planned.sort(key=lambda item: item[0])

    plans: dict[int, TreatmentPlan] = {}
    for at, person, kind, ordinal in planned:
        patient = person.patient
        if patient.pk not in plans:
            plans[patient.pk] = _plan(
                patient, context, protocols, at - timedelta(days=5)
            )
        if kind == "booster":
            plan = TreatmentPlan.objects.get(pk=plans[patient.pk].pk)
            if active_order(plan, ProtocolKind.BOOSTER) is None:
                _order(plan, context, ProtocolKind.BOOSTER, at - timedelta(days=2))
        room = rooms[(ordinal + len(plans)) % len(rooms)]
        _infusion(
            clinic,
            person,
            room,
            at,
            ordinal=ordinal,
            stop_early=kind == "induction" and ordinal == 3 and person is history[0],
            hypertensive=kind == "induction"
            and ordinal == 1
            and len(history) > 1
            and person is history[1],
        )
    for person in history:
        if person.course == "no_response":
            plan = TreatmentPlan.objects.get(pk=plans[person.patient.pk].pk)
            end_plan(
                plan,
                by=prescriber,
                reason="No response after the induction series; other options discussed (demo).",
            )

    # The clinic revises its ketamine consent; those due now re-sign, one has not yet.
    ketamine = (
        ConsentDocument.objects.filter(
            organization=context.organization, kind="ketamine"
        )
        .order_by("-version")
        .first()
    )
    assert ketamine is not None
    revised = consents.publish_consent(
        context.organization,
        kind="ketamine",
        title=ketamine.title,
        body=ketamine.body
        + "\n\nAdded in version 2 (demo): you may be asked to stay for observation longer "
        "if your blood pressure rises during the infusion.",
        by=director,
    )
    re_signers = [p.patient for p in current[:2]] + [
        p for p in context.patients[:6] if _signed_ketamine(p)
    ]
    consents.sign_consents(
        [
            consents.ConsentToSign(
                patient,
                revised,
                typed_name=patient.legal_name,
                signature_png=signature_png(60 + n),
                ip_address="127.0.0.1",
                channel=ConsentSignature.Channel.TABLET,
                by=context.staff["frontdesk"],
            )
            for n, patient in enumerate(re_signers)
        ]
    )

    # One infusion running now, at the Annex: infusion 3 of 6 for the first patient due.
    if current and rooms:
        person = current[0]
        t0 = now - timedelta(minutes=48)
        started = _check_in_to_start(clinic, person, rooms[0], t0, ordinal=2)
        session, baseline = started.session, started.baseline_systolic
        monitor = _monitor(clinic, rooms[0])
        assert session.started_at is not None
        readings = []
        minute = 3
        while session.started_at + timedelta(minutes=minute) < now:
            readings.append(
                {
                    "device": str(monitor.uuid),
                    "taken_at": (
                        session.started_at + timedelta(minutes=minute)
                    ).isoformat(),
                    **_vitals(
                        rng,
                        systolic=baseline + min(minute, 30) // 3,
                        heart=rng.randint(72, 90),
                    ),
                }
            )
            minute += 3
        monitoring.ingest_readings(
            session, readings, source=VitalReading.Source.MONITOR, by=None
        )
        events.record_sedation(session, by=context.staff["nurse"], score=4)
    run_check(clinic.registrant, source=LedgerCheck.Source.NIGHTLY, notify=False)


def _signed_ketamine(patient: Patient) -> bool:
    """Signed an earlier version of the ketamine consent (intake's demo patients)."""
    for state in consent_states(patient):
        if state.kind == ConsentDocument.Kind.KETAMINE:
            return state.signed is not None and not state.is_current
    return False
