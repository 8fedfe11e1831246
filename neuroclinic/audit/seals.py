"""Sealing clinical and DEA records so an edit behind the application's back shows.

Every save of a sealed model, through the ORM, writes a `Seal`: the SHA-256 of
the row as the database gives it back (read again after the save, so the hash
sees exactly what a later check will read), the columns covered, and an HMAC
keyed by `settings.INTEGRITY_KEY`, a secret kept outside the database. A delete
writes a tombstone seal. `verify_seals()` then proves, for every sealed table:

- every row has a seal (a row inserted by raw SQL has none);
- every row's content matches its newest seal (a row edited by raw SQL does not);
- every sealed, undeleted record still exists (a row deleted by raw SQL);
- every seal's HMAC is valid (a seal forged or edited to match an edit).

Someone with the database but not the key cannot write a seal that passes.
Deleting a record together with all its seals, or deleting a record's newest
seals to roll it back to an earlier sealed version, is caught by the signed
checkpoints (`neuroclinic.audit.checkpoints`), which record how many seals
existed up to a seal id; changes made after the newest checkpoint and before the
next one are not caught that way (docs/security.md).

Code that writes sealed rows with `QuerySet.update()` or `bulk_create()` (which
send no signals) must call `seal_objects()` afterwards, or verify reports them.

The registry names models by label, so this module imports no other app.
"""

import contextlib
import hashlib
import hmac
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any
from uuid import UUID

import orjson
from django.apps import apps
from django.conf import settings
from django.db import connections, models

# A signal, not a call in each action (the house rule): a seal must follow every
# save of a sealed model, whichever action or app makes it (docs/decisions.md).
from django.db.models.signals import post_delete, post_save, pre_delete  # noqa: TID251
from django.utils import timezone

# Sealed models and the columns each seal covers (None: every concrete column).
# Users and patients: only what a record displays about them (names, address),
# since sign-in bookkeeping columns change by QuerySet.update().
SEALED_MODELS: dict[str, tuple[str, ...] | None] = {
    # Infusions (charted during a session, signed notes and addenda).
    "infusions.infusionsession": None,
    "infusions.sessionevent": None,
    "infusions.doserecord": None,
    "infusions.vitalreading": None,
    "infusions.sessionalarm": None,
    "infusions.adverseevent": None,
    "infusions.prngiven": None,
    "infusions.sedationscore": None,
    "infusions.sessionquestionnaire": None,
    "infusions.recoveryassessment": None,
    "infusions.infusionnote": None,
    "infusions.noteaddendum": None,
    # Measures.
    "measures.questionnaireresponse": None,
    "measures.safetyalert": None,
    "measures.treatmentresumption": None,
    # Intake: eligibility decisions, consents, consult notes.
    "intake.eligibilitydecision": None,
    "intake.consentdocument": None,
    "intake.consentsignature": None,
    "intake.consultnote": None,
    # The chart's lists: entered once, ended once (patients 0004).
    "patients.diagnosis": None,
    "patients.medication": None,
    "patients.allergy": None,
    # Vitals brought in by a FHIR import (interop 0003).
    "interop.importedobservation": None,
    # Other systems' identifiers of our patients (interop 0004).
    "interop.patientidentifier": None,
    # Treatment: protocols, plans, orders.
    "treatment.protocol": None,
    "treatment.treatmentplan": None,
    "treatment.infusionorder": None,
    "treatment.prnorder": None,
    # TMS: screens and decisions, thresholds, orders, sessions and what happened in them.
    "tms.safetyscreen": None,
    "tms.screendecision": None,
    "tms.motorthreshold": None,
    "tms.tmscourse": None,
    "tms.tmssession": None,
    "tms.intensitychange": None,
    "tms.sideeffect": None,
    "tms.interruption": None,
    "tms.seizureevent": None,
    "tms.seizurereview": None,
    "tms.sessionaddendum": None,
    "tms.missedsession": None,
    "tms.tmsprotocol": None,
    "tms.adverseevent": None,
    "tms.adverseeventreview": None,
    # Letters as signed and sent, their addenda and the Part 2 consents that release them.
    "letters.letter": None,
    "letters.lettersend": None,
    "letters.letteraddendum": None,
    "letters.part2consent": None,
    # Billing: what was charged, estimated and paid.
    "billing.goodfaithestimate": None,
    "billing.packagesale": None,
    "billing.packageclosure": None,
    "billing.invoice": None,
    "billing.invoiceline": None,
    "billing.payment": None,
    "billing.superbill": None,
    "billing.statement": None,
    "billing.emruleversion": None,
    "billing.visitcoding": None,
    # What a DEA record shows besides the ledger entry itself (21 CFR 1304).
    "ledger.registrant": None,
    "ledger.storagelocation": None,
    "ledger.product": None,
    "ledger.supplier": None,
    "ledger.lot": None,
    "ledger.receipt": None,
    "ledger.container": None,
    "patients.patient": (
        "mrn",
        "family_name",
        "given_name",
        "middle_name",
        "birth_date",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
    ),
    "accounts.user": ("username", "first_name", "last_name", "title"),
}


def integrity_key() -> bytes:
    """The HMAC key: INTEGRITY_KEY, or one derived from SECRET_KEY (neither is in the database)."""
    configured: str = getattr(settings, "INTEGRITY_KEY", "")
    if configured:
        return configured.encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"neuroclinic integrity key", hashlib.sha256
    ).digest()


def _plain(value: Any) -> Any:
    """A database value as JSON-able text that is the same on every read."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def row_hash(fields: Sequence[str], values: Sequence[Any]) -> str:
    content = {name: _plain(value) for name, value in zip(fields, values, strict=True)}
    return hashlib.sha256(
        orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def seal_mac(
    model: str, object_id: str, content_hash: str, fields: str, sealed_at: datetime
) -> str:
    message = "\x1f".join(
        (
            model,
            object_id,
            content_hash,
            fields,
            sealed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        )
    )
    return hmac.new(integrity_key(), message.encode(), hashlib.sha256).hexdigest()


def covered_fields(model: type[models.Model], label: str | None = None) -> list[str]:
    chosen = SEALED_MODELS.get(label or model._meta.label_lower)
    concrete = [f.attname for f in model._meta.concrete_fields]
    if chosen is None:
        return concrete
    return [name for name in concrete if name in chosen]


def _organization_id(model: type[models.Model], row: dict[str, Any]) -> int | None:
    value = row.get("organization_id")
    return value if isinstance(value, int) else None


def _new_seal(
    seal_model: type[models.Model],
    label: str,
    object_id: str,
    content_hash: str,
    fields: list[str],
    organization_id: int | None,
) -> models.Model:
    # The time goes through the database at microsecond precision, so the MAC
    # is computed on the value a later read returns.
    sealed_at = timezone.now()
    joined = ",".join(fields)
    return seal_model(
        model=label,
        object_id=object_id,
        content_hash=content_hash,
        fields=joined,
        organization_id=organization_id,
        sealed_at=sealed_at,
        mac=seal_mac(label, object_id, content_hash, joined, sealed_at),
    )


def seal_existing(
    apps_registry: Any, schema_editor: Any, labels: Iterable[str], batch: int = 2000
) -> None:
    """A migration's baseline: seal the rows of `labels` that have no seal yet, from the
    migration's historical models (`RunPython(lambda a, s: seal_existing(a, s, LABELS))`)."""
    using = schema_editor.connection.alias
    seal_model = apps_registry.get_model("audit", "Seal")
    for label in labels:
        app_label, name = label.split(".")
        model = apps_registry.get_model(app_label, name)
        sealed = set(
            seal_model._base_manager.using(using)
            .filter(model=label)
            .values_list("object_id", flat=True)
        )
        pks = [
            pk
            for pk in model._base_manager.using(using)
            .order_by("pk")
            .values_list("pk", flat=True)
            if str(pk) not in sealed
        ]
        for start in range(0, len(pks), batch):
            seals = seals_for(
                model,
                pks[start : start + batch],
                using=using,
                seal_model=seal_model,
                label=label,
            )
            seal_model._base_manager.using(using).bulk_create(seals)


def seals_for(
    model: type[models.Model],
    pks: Iterable[Any],
    *,
    using: str = "default",
    seal_model: type[models.Model] | None = None,
    label: str | None = None,
) -> list[models.Model]:
    """Unsaved seals for these rows of `model`, read back from the database."""
    label = label or model._meta.label_lower
    seal_model = seal_model or apps.get_model("audit", "Seal")
    fields = covered_fields(model, label)
    wanted = [*fields, "organization_id"] if _has_org(model) else fields
    pk_name = model._meta.pk.attname
    select = list(dict.fromkeys([pk_name, *wanted]))
    result = []
    for row in (
        model._base_manager.using(using).filter(pk__in=list(pks)).values(*select)
    ):
        result.append(
            _new_seal(
                seal_model,
                label,
                str(row[pk_name]),
                row_hash(fields, [row[name] for name in fields]),
                fields,
                _organization_id(model, row),
            )
        )
    return result


def _has_org(model: type[models.Model]) -> bool:
    return any(f.attname == "organization_id" for f in model._meta.concrete_fields)


def seal_objects(objects: Sequence[models.Model], *, using: str = "default") -> None:
    """Seal rows written without signals (bulk_create, QuerySet.update)."""
    if not objects:
        return
    model = type(objects[0])
    if model._meta.label_lower not in SEALED_MODELS:
        return
    seals = seals_for(model, [o.pk for o in objects], using=using)
    if seals:
        # One INSERT for the batch: a bulk writer stays one statement per table.
        type(seals[0])._base_manager.using(using).bulk_create(seals)


def seals_from_rows(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    using: str = "default",
) -> None:
    """Seal rows the database has just given back (an INSERT ... RETURNING every column).

    The same seals as seal_objects(), without reading the rows again: what
    RETURNING gives is the row as stored, through the same converters a read
    uses. Each row must hold every covered column and the primary key.
    """
    label = model._meta.label_lower
    if not rows or label not in SEALED_MODELS:
        return
    fields = covered_fields(model, label)
    joined = ",".join(fields)
    pk_name = model._meta.pk.attname
    # One time for the batch, through the database at microsecond precision, so
    # each MAC is computed on the value a later read returns.
    sealed_at = timezone.now()
    stored_at = connections[using].ops.adapt_datetimefield_value(sealed_at)
    values: list[Any] = []
    for row in rows:
        object_id = str(row[pk_name])
        content_hash = row_hash(fields, [row[name] for name in fields])
        values += (
            label,
            object_id,
            content_hash,
            joined,
            _organization_id(model, row),
            stored_at,
            seal_mac(label, object_id, content_hash, joined, sealed_at),
        )
    # One INSERT per 500 rows (under SQLite's variable limit), its text built once
    # per database and size (this runs on every monitor request: bulk_create would
    # build model instances and compile the statement each time).
    width = len(_SEAL_COLUMNS)
    vendor = connections[using].vendor
    with connections[using].cursor() as cursor:
        for start in range(0, len(rows), _SEAL_BATCH):
            chunk = values[start * width : (start + _SEAL_BATCH) * width]
            cursor.execute(_seal_insert_sql(vendor, len(chunk) // width), chunk)


_SEAL_COLUMNS = (
    "model",
    "object_id",
    "content_hash",
    "fields",
    "organization_id",
    "sealed_at",
    "mac",
)


@lru_cache(maxsize=64)
def _seal_insert_sql(vendor: str, count: int) -> str:
    seal_model = apps.get_model("audit", "Seal")
    quote = connections["default"].ops.quote_name
    row = "(" + ", ".join(["%s"] * len(_SEAL_COLUMNS)) + ")"
    return (
        f"INSERT INTO {quote(seal_model._meta.db_table)} "  # noqa: S608 - our table and columns
        f"({', '.join(quote(c) for c in _SEAL_COLUMNS)}) VALUES "
        + ", ".join([row] * count)
    )


# Rows saved inside `deferred_seals()`, by database and model, sealed when it ends.
_deferred: ContextVar[dict[tuple[str, type[models.Model]], set[Any]] | None] = (
    ContextVar("deferred_seals", default=None)
)
_SEAL_BATCH = 500  # rows per SELECT ... IN: under SQLite's variable limit


@contextlib.contextmanager
def deferred_seals() -> Iterator[None]:
    """Seal the rows saved inside this block once, in one pass at its end.

    For a bulk writer that saves thousands of rows through the ORM (the demo
    loader): instead of a read-back and an INSERT after each save, each row
    saved is sealed once with its content as the block leaves it, one SELECT
    and one INSERT per model and batch. The end state is what a seal per save
    would leave as each row's newest seal. Use it inside the writer's
    transaction: an exception leaves the rows unsealed only if it also rolls
    them back. Nested blocks seal at the end of the outermost one.
    """
    if _deferred.get() is not None:
        yield
        return
    token = _deferred.set({})
    try:
        yield
        _flush_deferred()
    finally:
        _deferred.reset(token)


def _flush_deferred() -> None:
    pending = _deferred.get()
    if not pending:
        return
    seal_model = apps.get_model("audit", "Seal")
    while pending:
        (using, model), pks = pending.popitem()
        ordered = sorted(pks, key=str)
        for start in range(0, len(ordered), _SEAL_BATCH):
            seals = seals_for(
                model,
                ordered[start : start + _SEAL_BATCH],
                using=using,
                seal_model=seal_model,
            )
            if seals:
                type(seals[0])._base_manager.using(using).bulk_create(seals)


def _after_save(
    sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any
) -> None:
    pending = _deferred.get()
    if pending is not None:
        pending.setdefault((using, sender), set()).add(instance.pk)
        return
    seal_model = apps.get_model("audit", "Seal")
    for seal in seals_for(sender, [instance.pk], using=using, seal_model=seal_model):
        seal.save(using=using, force_insert=True)


def _before_delete(sender: type[models.Model], **kwargs: Any) -> None:
    # A row saved and deleted in a deferred block: its content seal first (read
    # while it still exists), then the tombstone.
    _flush_deferred()


def _after_delete(
    sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any
) -> None:
    seal_model = apps.get_model("audit", "Seal")
    org = getattr(instance, "organization_id", None)
    _new_seal(
        seal_model,
        sender._meta.label_lower,
        str(instance.pk),
        "",
        [],
        org if isinstance(org, int) else None,
    ).save(using=using, force_insert=True)


def connect() -> None:
    """Seal every save and delete of the registered models (AuditConfig.ready)."""
    for label in SEALED_MODELS:
        model = _model(label)
        if model is None:
            continue
        post_save.connect(_after_save, sender=model, dispatch_uid=f"seal:{label}")
        pre_delete.connect(_before_delete, sender=model, dispatch_uid=f"flush:{label}")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"unseal:{label}")


def _model(label: str) -> type[models.Model] | None:
    app_label, name = label.split(".")
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


# -- Verification -------------------------------------------------------------


@dataclass(frozen=True)
class SealProblem:
    model: str
    object_id: str
    problem: str

    def describe(self) -> str:
        return f"{self.model} #{self.object_id}: {self.problem}"


@dataclass
class _Latest:
    content_hash: str
    fields: str
    sealed_at: datetime


def _seal_rows() -> Iterator[tuple[int, str, str, str, str, datetime, str]]:
    seal_model = apps.get_model("audit", "Seal")
    return (
        seal_model._base_manager.order_by("id")
        .values_list(
            "id", "model", "object_id", "content_hash", "fields", "sealed_at", "mac"
        )
        .iterator(chunk_size=10_000)
    )


@cache
def _split(fields: str) -> tuple[str, ...]:
    return tuple(fields.split(",")) if fields else ()


def verify_seals(*, limit: int = 20) -> list[SealProblem]:
    """Every sealed record against its newest seal; at most `limit` problems."""
    problems: list[SealProblem] = []
    latest: dict[tuple[str, str], _Latest] = {}
    for seal_id, label, object_id, content, fields, sealed_at, mac in _seal_rows():
        if not hmac.compare_digest(
            mac, seal_mac(label, object_id, content, fields, sealed_at)
        ):
            problems.append(
                SealProblem(
                    label,
                    object_id,
                    f"seal #{seal_id} does not carry a valid HMAC: it was forged or "
                    "edited outside the application",
                )
            )
            if len(problems) >= limit:
                return problems
            continue
        latest[(label, object_id)] = _Latest(content, fields, sealed_at)

    for label in SEALED_MODELS:
        model = _model(label)
        if model is None:
            continue
        problems += _verify_model(model, label, latest, limit - len(problems))
        if len(problems) >= limit:
            return problems[:limit]
    for (label, object_id), seal in latest.items():
        if seal.content_hash and _model(label) is not None:
            problems.append(
                SealProblem(
                    label,
                    object_id,
                    f"sealed {seal.sealed_at:%Y-%m-%d %H:%M} UTC but missing: deleted "
                    "outside the application",
                )
            )
            if len(problems) >= limit:
                break
    return problems


def _verify_model(
    model: type[models.Model],
    label: str,
    latest: dict[tuple[str, str], _Latest],
    limit: int,
) -> list[SealProblem]:
    problems: list[SealProblem] = []
    concrete = [f.attname for f in model._meta.concrete_fields]
    pk_name = model._meta.pk.attname
    for row in (
        model._base_manager.order_by("pk").values(*concrete).iterator(chunk_size=5000)
    ):
        object_id = str(row[pk_name])
        seal = latest.pop((label, object_id), None)
        if seal is None or not seal.content_hash:
            problem = "it has no seal: inserted outside the application"
        else:
            names = _split(seal.fields)
            if all(name in row for name in names) and seal.content_hash == row_hash(
                names, [row[name] for name in names]
            ):
                continue
            problem = (
                f"its content no longer matches its seal of "
                f"{seal.sealed_at:%Y-%m-%d %H:%M} UTC: edited outside the application"
            )
        problems.append(SealProblem(label, object_id, problem))
        if len(problems) >= limit:
            break
    return problems
