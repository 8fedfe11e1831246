"""A clinic's controlled-substance ledger, years of it, written in bulk for the benchmarks.

`build(entries)` simulates a ketamine clinic day by day and writes the chain a clinic
working through the actions would have: three products in three strengths, three
safes, a hundred lots, shipments received as receipts of 10 to 25 vials, a vial open
per product and safe at a time, sessions that draw a weight-based dose (some topped
up with a second draw), administer it and waste the rest in front of a witness, a
vial's remainder below one dose destroyed when the next is opened, and now and then
a count that finds a few hundredths of a mL missing (a count, a discrepancy resolved
as a minor variance, and the count adjustment). Each simulated night has its
LedgerCheck row, as the nightly check writes.

It does not go through the actions (a million entries took 49 minutes that way on a
loaded machine): it keeps the balances in integer hundredths, builds each entry's
hashed content with the values already in their canonical text and hashes it with the
project's `lib.hashchain.content_hash` (what `ledger.chain.append` calls), and inserts
rows in batches (COPY on PostgreSQL, executemany on SQLite). `ledger verify` re-adds
and re-hashes all of it, so a builder mistake shows as a broken chain, not a fast one.

Not product code: only the benchmarks import it.
"""

import csv
import io
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

PRODUCTS = (
    # name, NDC, mg/mL in hundredths, vial mL in hundredths
    ("Ketamine HCl injection 50 mg/mL (synthetic)", "99999-0501-10", 5000, 1000),
    ("Ketamine HCl injection 100 mg/mL (synthetic)", "99999-0502-05", 10000, 500),
    ("Ketamine HCl injection 10 mg/mL (synthetic)", "99999-0503-20", 1000, 2000),
)
SAFES = ("Main safe", "Infusion suite lockbox", "Satellite clinic safe")
LOTS = 100
PATIENTS = 400
SESSIONS_PER_DAY = 150
BATCH = 20_000
WITNESS_METHOD = {"witness_method": "second person present (synthetic)"}

COLUMNS = (
    "uuid", "organization_id", "registrant_id", "seq", "kind", "occurred_at", "recorded_at",
    "container_id", "lot_id", "product_id", "storage_location_id", "quantity_ml", "quantity_mg",
    "container_change_ml", "session_change_ml", "container_balance_after_ml",
    "lot_balance_after_ml", "session_balance_after_ml", "stock_on_hand_after_mg", "session_ref",
    "patient_id", "actor_id", "actor_name", "witness_id", "witness_name",
    "witness_confirmed_at", "reason", "reverses_id", "receipt_id", "discrepancy_id", "details",
    "prev_hash", "hash",
)  # fmt: skip


def cents_text(cents: int | None) -> str | None:
    """Integer hundredths as the two-place text `as_quantity` gives (-80 -> "-0.80")."""
    if cents is None:
        return None
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


def half_up(value: int) -> int:
    """value / 100 rounded half away from zero (mg_from_ml's ROUND_HALF_UP)."""
    q, r = divmod(abs(value), 100)
    if 2 * r >= 100:
        q += 1
    return -q if value < 0 else q


def iso(moment: datetime) -> str:
    """A UTC datetime as lib.hashchain writes it."""
    return moment.isoformat(timespec="microseconds")


@dataclass
class Vial:
    pk: int
    product: int  # index into PRODUCTS
    safe: int
    lot_id: int
    balance: int  # hundredths of a mL
    opened_at: datetime | None = None
    status: str = "sealed"


@dataclass
class Built:
    seq: int
    head_hash: str
    stock_cents: int
    vials: int
    receipts: int
    sessions: int
    counts: int
    days: int
    kinds: dict[str, int] = field(default_factory=dict)


class _Writer:
    """Hands rows to the database a batch at a time."""

    def __init__(self, vendor: str) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = vendor
        self.rows: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                out = io.StringIO()
                csv.writer(out, quoting=csv.QUOTE_NOTNULL).writerows(self.rows)
                with cursor.cursor.copy(
                    f"COPY ledger_ledgerentry ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
                ) as copy:
                    copy.write(out.getvalue())
            else:
                marks = ", ".join("%s" for _ in COLUMNS)
                cursor.executemany(
                    f"INSERT INTO ledger_ledgerentry ({', '.join(COLUMNS)}) VALUES ({marks})",  # noqa: S608 - our own column names
                    self.rows,
                )
        self.rows.clear()


def _db_time(moment: datetime, vendor: str) -> str:
    """How Django stores a UTC datetime: text without a zone on SQLite."""
    if vendor == "postgresql":
        return moment.isoformat()
    return str(moment.replace(tzinfo=None))


def build(entries: int, vendor: str, *, seed: int = 17) -> Built:
    """Write a clinic's chain of `entries` entries (stops at the first session past it)."""
    from django.contrib.auth.models import Group

    from neuroclinic.accounts.models import User
    from neuroclinic.clinics.models import Location, Organization
    from neuroclinic.ledger.actions.setup import (
        add_product,
        add_storage_location,
        register_registrant,
    )
    from neuroclinic.ledger.models import (
        Container,
        Count,
        CountLine,
        Discrepancy,
        LedgerCheck,
        LedgerHead,
        Lot,
        Receipt,
        Supplier,
    )
    from neuroclinic.lib.hashchain import GENESIS_HASH, content_hash
    from neuroclinic.patients.models import Patient

    rng = random.Random(seed)
    organization = Organization.objects.create(name="Benchmark clinic", mrn_prefix="BM")
    location = Location.objects.create(
        organization=organization,
        name="Main",
        address_line1="1 Bench St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        time_zone="UTC",
    )
    nurse_group = Group.objects.get(name="nurse")
    custodian_group = Group.objects.get(name="cs_custodian")
    nurses = []
    for n in range(4):
        nurse = User.objects.create(
            username=f"bench-nurse-{n}",
            first_name=f"Nurse{n}",
            last_name="Bench",
            organization=organization,
        )
        nurse.groups.set([nurse_group])
        nurses.append((nurse.pk, nurse.display_name))
    custodians = []
    for n in range(2):
        custodian = User.objects.create(
            username=f"bench-custodian-{n}",
            first_name=f"Custodian{n}",
            last_name="Bench",
            organization=organization,
        )
        custodian.groups.set([custodian_group])
        custodians.append((custodian.pk, custodian.display_name))
    first_custodian = User.objects.get(pk=custodians[0][0])
    registrant = register_registrant(
        location,
        name="Benchmark clinic",
        address_line1="1 Bench St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        dea_number="BL1234563",
        by=first_custodian,
    )
    safes = [
        add_storage_location(registrant, name=name, by=first_custodian).pk
        for name in SAFES
    ]
    products = [
        add_product(
            organization,
            name=name,
            ndc=ndc,
            concentration_mg_per_ml=Decimal(concentration) / 100,
            container_volume_ml=Decimal(volume) / 100,
            by=first_custodian,
        ).pk
        for name, ndc, concentration, volume in PRODUCTS
    ]
    lots_by_product: list[list[int]] = [[] for _ in PRODUCTS]
    for lot in Lot.objects.bulk_create(
        Lot(
            organization=organization,
            product_id=products[n % len(PRODUCTS)],
            lot_number=f"BENCH-{n:03d}",
            expiry_date=date(2099, 12, 31),
        )
        for n in range(LOTS)
    ):
        lots_by_product[products.index(lot.product_id)].append(lot.pk)
    supplier = Supplier.objects.create(
        organization=organization,
        name="Synthetic Distributor",
        address="2 Wholesale Way, Springfield, IL",
        dea_number="RS1234563",
    )
    patients = [
        p.pk
        for p in Patient.objects.bulk_create(
            Patient(
                organization=organization,
                mrn=f"BM-{n:06d}",
                family_name=f"Benchmark{n}",
                given_name="Synthetic",
                birth_date=date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
                sex_at_birth="unknown",
            )
            for n in range(PATIENTS)
        )
    ]
    weights = {pk: rng.randint(50, 120) for pk in patients}  # kg

    writer = _Writer(vendor)
    organization_id, registrant_id = organization.pk, registrant.pk
    seq = 0
    prev = GENESIS_HASH
    stock = 0
    lot_balance: dict[int, int] = {}
    vials: list[Vial] = []
    sealed: dict[tuple[int, int], list[Vial]] = {}
    open_vial: dict[tuple[int, int], Vial | None] = {}
    built = Built(0, "", 0, 0, 0, 0, 0, 0)
    checks: list[LedgerCheck] = []
    receipt_number = 0

    def emit(
        kind: str,
        vial: Vial,
        when: datetime,
        *,
        quantity: int,
        change: int,
        session_change: int = 0,
        session: str = "",
        session_after: int | None = None,
        patient: int | None = None,
        actor: tuple[int, str],
        witness: tuple[int, str] | None = None,
        reason: str = "",
        receipt: int | None = None,
        discrepancy: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        nonlocal seq, prev, stock
        seq += 1
        concentration = PRODUCTS[vial.product][2]
        vial.balance += change
        lot_after = lot_balance.get(vial.lot_id, 0) + change
        lot_balance[vial.lot_id] = lot_after
        if vial.balance < 0 or lot_after < 0:
            raise AssertionError(f"entry {seq} takes a balance below zero")
        mg = (abs(change) * concentration + 50) // 100
        stock += -mg if change < 0 else mg
        recorded = when + timedelta(seconds=rng.randint(1, 40))
        confirmed = recorded if witness else None
        row_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
        data = (details or {}) | (WITNESS_METHOD if witness else {})
        content = {
            "seq": seq,
            "uuid": str(row_uuid),
            "organization_id": organization_id,
            "registrant_id": registrant_id,
            "kind": kind,
            "occurred_at": iso(when),
            "recorded_at": iso(recorded),
            "container_id": vial.pk,
            "lot_id": vial.lot_id,
            "product_id": products[vial.product],
            "storage_location_id": safes[vial.safe],
            "quantity_ml": cents_text(quantity),
            "quantity_mg": cents_text(half_up(quantity * concentration)),
            "container_change_ml": cents_text(change),
            "session_change_ml": cents_text(session_change),
            "container_balance_after_ml": cents_text(vial.balance),
            "lot_balance_after_ml": cents_text(lot_after),
            "session_balance_after_ml": cents_text(session_after),
            "stock_on_hand_after_mg": cents_text(stock),
            "session_ref": session,
            "patient_id": patient,
            "actor_id": actor[0],
            "actor_name": actor[1],
            "witness_id": witness[0] if witness else None,
            "witness_name": witness[1] if witness else "",
            "witness_confirmed_at": iso(confirmed) if confirmed else None,
            "reason": reason,
            "reverses_id": None,
            "receipt_id": receipt,
            "discrepancy_id": discrepancy,
            "details": data,
            "prev_hash": prev,
        }
        # The function ledger.chain.append hashes with; quantities and datetimes are
        # already the text its encoder would give them.
        prev = content_hash(content)
        built.kinds[kind] = built.kinds.get(kind, 0) + 1
        writer.add(
            (
                row_uuid.hex if vendor == "sqlite" else content["uuid"],
                organization_id,
                registrant_id,
                seq,
                kind,
                _db_time(when, vendor),
                _db_time(recorded, vendor),
                vial.pk,
                vial.lot_id,
                content["product_id"],
                content["storage_location_id"],
                content["quantity_ml"],
                content["quantity_mg"],
                content["container_change_ml"],
                content["session_change_ml"],
                content["container_balance_after_ml"],
                content["lot_balance_after_ml"],
                content["session_balance_after_ml"],
                content["stock_on_hand_after_mg"],
                session,
                patient,
                actor[0],
                actor[1],
                content["witness_id"],
                content["witness_name"],
                _db_time(confirmed, vendor) if confirmed else None,
                reason,
                None,
                receipt,
                discrepancy,
                _json(data),
                content["prev_hash"],
                prev,
            )
        )

    def receive(product: int, safe: int, when: datetime) -> None:
        nonlocal receipt_number
        receipt_number += 1
        count = rng.randint(10, 25)
        lot_id = rng.choice(lots_by_product[product])
        custodian = rng.choice(custodians)
        receipt = Receipt.objects.create(
            organization_id=organization_id,
            registrant_id=registrant_id,
            supplier=supplier,
            supplier_name=supplier.name,
            supplier_address=supplier.address,
            supplier_dea_number=supplier.dea_number,
            invoice_number=f"INV-{receipt_number:06d}",
            invoice_date=when.date(),
            received_at=when,
            received_by_id=custodian[0],
            storage_location_id=safes[safe],
        )
        volume = PRODUCTS[product][3]
        made = Container.objects.bulk_create(
            Container(
                organization_id=organization_id,
                registrant_id=registrant_id,
                product_id=products[product],
                lot_id=lot_id,
                storage_location_id=safes[safe],
                receipt=receipt,
                vial_identifier=f"R{receipt_number:06d}-{n:02d}",
                status=Container.Status.SEALED,
                initial_volume_ml=Decimal(volume) / 100,
                balance_ml=Decimal(volume) / 100,
                received_at=when,
            )
            for n in range(count)
        )
        built.receipts += 1
        queue = sealed.setdefault((product, safe), [])
        for n, container in enumerate(made):
            vial = Vial(container.pk, product, safe, lot_id, 0)
            vials.append(vial)
            queue.append(vial)
            emit(
                "receive",
                vial,
                when + timedelta(seconds=n),
                quantity=volume,
                change=volume,
                actor=custodian,
                receipt=receipt.pk,
                details={"invoice_number": receipt.invoice_number},
            )

    def next_vial(product: int, safe: int, when: datetime, need: int) -> Vial:
        """The open vial with `need` in it; the remainder of a spent one destroyed."""
        vial = open_vial.get((product, safe))
        if vial is not None and vial.balance >= need:
            return vial
        if vial is not None and vial.balance > 0:
            remainder = vial.balance
            emit(
                "destruction",
                vial,
                when - timedelta(seconds=30),
                quantity=remainder,
                change=-remainder,
                actor=rng.choice(nurses),
                witness=rng.choice(custodians),
                reason="Remainder below one dose, destroyed on site",
            )
            vial.status = "destroyed"
        elif vial is not None:
            vial.status = "empty"
        queue = sealed.get((product, safe))
        if not queue:
            receive(product, safe, when - timedelta(minutes=20))
            queue = sealed[(product, safe)]
        vial = queue.pop(0)
        vial.status, vial.opened_at = "open", when
        open_vial[(product, safe)] = vial
        return vial

    def count_adjustment(when: datetime) -> None:
        candidates = [v for v in open_vial.values() if v is not None and v.balance >= 3]
        if not candidates:
            return
        vial = rng.choice(candidates)
        short = rng.randint(1, 3)
        counter, second = rng.sample(nurses, 2)
        count = Count.objects.create(
            organization_id=organization_id,
            registrant_id=registrant_id,
            storage_location_id=safes[vial.safe],
            kind=Count.Kind.DAILY,
            counted_at=when,
            counted_by_id=counter[0],
            second_counter_id=second[0],
            second_confirmed_at=when,
            has_variance=True,
        )
        expected = Decimal(vial.balance) / 100
        counted = Decimal(vial.balance - short) / 100
        CountLine.objects.create(
            organization_id=organization_id,
            count=count,
            container_id=vial.pk,
            expected_ml=expected,
            counted_ml=counted,
            variance_ml=counted - expected,
            is_discrepancy=True,
        )
        discrepancy = Discrepancy.objects.create(
            organization_id=organization_id,
            registrant_id=registrant_id,
            count=count,
            status=Discrepancy.Status.RESOLVED_MINOR,
            discovered_at=when,
            discovered_by_id=counter[0],
            variance_ml=counted - expected,
            variance_mg=Decimal(-half_up(short * PRODUCTS[vial.product][2])) / 100,
            resolution_notes="Overfill/measurement variance within policy",
            closed_at=when,
            closed_by_id=custodians[0][0],
        )
        built.counts += 1
        emit(
            "count_adjustment",
            vial,
            when + timedelta(minutes=1),
            quantity=short,
            change=-short,
            actor=custodians[0],
            reason="Minor variance found at the daily count",
            discrepancy=discrepancy.pk,
            details={"expected_ml": str(expected), "counted_ml": str(counted)},
        )

    def session(when: datetime) -> None:
        product = rng.choices((0, 1, 2), weights=(6, 3, 1))[0]
        safe = rng.choices((0, 1, 2), weights=(5, 3, 2))[0]
        concentration = PRODUCTS[product][2]
        patient = rng.choice(patients)
        dose_mg = weights[patient] * rng.choice(
            (50, 50, 75, 100)
        )  # hundredths: 0.5-1 mg/kg
        give = max(5, -(-dose_mg * 100 // concentration))  # mL, hundredths, rounded up
        waste = rng.choice((0, 5, 10, 10, 20))
        draw = give + waste
        if draw > PRODUCTS[product][3]:
            draw, give, waste = PRODUCTS[product][3], PRODUCTS[product][3], 0
        vial = next_vial(product, safe, when, draw)
        ref = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        nurse = rng.choice(nurses)
        witness = rng.choice(custodians)
        moment = when
        emit(
            "draw",
            vial,
            moment,
            quantity=draw,
            change=-draw,
            session_change=draw,
            session=ref,
            session_after=draw,
            patient=patient,
            actor=nurse,
        )
        moment += timedelta(minutes=40)
        emit(
            "administer",
            vial,
            moment,
            quantity=give,
            change=0,
            session_change=-give,
            session=ref,
            session_after=waste,
            patient=patient,
            actor=nurse,
        )
        if (
            vial.balance >= 30 and rng.random() < 0.1
        ):  # a top-up dose from the same vial
            extra = rng.randint(10, min(30, vial.balance))
            moment += timedelta(minutes=5)
            emit(
                "draw",
                vial,
                moment,
                quantity=extra,
                change=-extra,
                session_change=extra,
                session=ref,
                session_after=waste + extra,
                patient=patient,
                actor=nurse,
            )
            moment += timedelta(minutes=10)
            emit(
                "administer",
                vial,
                moment,
                quantity=extra,
                change=0,
                session_change=-extra,
                session=ref,
                session_after=waste,
                patient=patient,
                actor=nurse,
            )
        if waste:
            emit(
                "waste",
                vial,
                moment + timedelta(minutes=2),
                quantity=waste,
                change=0,
                session_change=-waste,
                session=ref,
                session_after=0,
                patient=patient,
                actor=nurse,
                witness=witness,
            )
        built.sessions += 1

    start = datetime(2021, 1, 4, 8, 0, tzinfo=UTC)
    day = 0
    while seq < entries:
        morning = start + timedelta(days=day)
        day += 1
        for n in range(SESSIONS_PER_DAY):
            if seq >= entries:
                break
            when = morning + timedelta(
                seconds=n * 36_000 // SESSIONS_PER_DAY,
                microseconds=rng.choice((0, rng.randint(1, 999_999))),
            )
            session(when)
        if seq < entries and rng.random() < 0.05:
            count_adjustment(morning + timedelta(hours=11))
        checks.append(
            LedgerCheck(
                organization_id=organization_id,
                registrant_id=registrant_id,
                ran_at=morning + timedelta(hours=18),
                source=LedgerCheck.Source.NIGHTLY,
                ok=True,
                entries_checked=seq,
                head_seq=seq,
                head_hash=prev,
            )
        )
    writer.flush()
    LedgerCheck.objects.bulk_create(checks, batch_size=5000)
    LedgerHead.objects.filter(registrant=registrant).update(
        seq=seq, hash=prev, stock_on_hand_mg=Decimal(stock) / 100
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE ledger_container SET balance_ml = %s, status = %s, opened_at = %s "
            "WHERE id = %s",
            [
                (
                    cents_text(v.balance),
                    v.status if v.balance or v.status != "open" else "empty",
                    _db_time(v.opened_at, vendor) if v.opened_at else None,
                    v.pk,
                )
                for v in vials
            ],
        )
    built.seq, built.head_hash, built.stock_cents = seq, prev, stock
    built.vials, built.days = len(vials), day
    return built


def _json(data: dict[str, Any]) -> str:
    """The details as Django's JSONField writes them."""
    return json.dumps(data)
