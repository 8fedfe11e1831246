"""What the FHIR server serves: one entry per resource type, with the capability a
caller needs, the search parameters it takes and the models behind it.

The capability checks are here and only here (`ResourceType.capability`); the views
call `authorise()`. Every query starts from `Patient.objects.visible_to(user)`, so
another clinic's records and records that do not exist look the same (404, or no match).
"""

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce, Greatest

from neuroclinic.accounts.models import User
from neuroclinic.accounts.roles import Capability
from neuroclinic.clinics.models import Location, Organization
from neuroclinic.infusions.models import (
    InfusionNote,
    InfusionSession,
    NoteAddendum,
    VitalReading,
)
from neuroclinic.intake.models import ConsentSignature
from neuroclinic.interop.fhir import adverse_events, codes, documents, scheduling
from neuroclinic.interop.fhir.clinical import (
    ALL_VITAL_KINDS,
    CONDITION_PROFILE,
    ICD10_CM,
    IMPORTED_ID_PREFIX,
    IMPORTED_SURVEY_CODES,
    KETAMINE,
    MRN_SYSTEM,
    OPTIONAL_VITAL_KINDS,
    PATIENT_PROFILE,
    US_CORE,
    VITAL_CODES,
    VITAL_KINDS,
    Resource,
)
from neuroclinic.interop.fhir.questionnaires import (
    questionnaire_canonical,
    questionnaire_id,
    questionnaire_resource,
    score_code,
)
from neuroclinic.interop.fhir.scopes import may_read
from neuroclinic.interop.models import ImportedObservation, PatientIdentifier
from neuroclinic.interop.server import lines as export_lines
from neuroclinic.interop.server import rows
from neuroclinic.interop.server.cursor import Key, Position
from neuroclinic.interop.server.http import FhirError
from neuroclinic.interop.server.params import (
    DateRange,
    Token,
    parse_birthdate,
    parse_date,
    parse_reference,
    parse_references,
    parse_token,
    parse_uuid,
)
from neuroclinic.ledger.models import LedgerEntry
from neuroclinic.letters.models import Letter, LetterAddendum
from neuroclinic.lib.text import search_key
from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Allergy, Diagnosis, Medication, Patient
from neuroclinic.scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    StaffShift,
)
from neuroclinic.tms.models import AdverseEvent, TmsSession

Params = list[tuple[str, str]]


@dataclass
class Source:
    """One query that yields resources, `per_row` resources for each row."""

    queryset: Any  # a QuerySet, or anything with count() and slicing
    expand: Callable[[Sequence[Any]], list[Resource]]
    patient_of: Callable[[Any], Patient | None]
    per_row: int = 1
    # The columns `expand` reads, for bulk export (`batches`); empty: every column.
    # A column missing here would cost a query per row, which the export test counts.
    only: tuple[str, ...] = ()
    # Better for bulk export: the columns `expand` reads, read as value tuples and
    # handed to `expand` as light rows (`Row`), not model instances (a quarter of
    # the export's time went on building those). `a__b` is `row.a.b`; a relation's
    # first column is its `pk` (list `a__id` first where `patient_of` needs it).
    values: tuple[str, ...] = ()
    # Bulk export only: renders NDJSON lines straight from the value tuples
    # (`lines.Responses`, `lines.Scores`), given the tuples' columns, the row
    # builder and `expand` (what it renders through, and falls back to).
    lines: Callable[..., Any] | None = None

    def count(self) -> int:
        rows_found: int = self.queryset.count()
        return rows_found * self.per_row

    def order_fields(self) -> tuple[str, ...]:
        """The fields the rows are sorted by (ascending, the last one unique)."""
        if not isinstance(self.queryset, QuerySet):
            return ()
        fields = tuple(str(f) for f in self.queryset.query.order_by)
        assert fields, "a paged search must be sorted"
        assert all(not f.startswith("-") and "__" not in f for f in fields), fields
        return fields

    def key_of(self, row: Any, at: int) -> Key:
        """The sort key of `row`, the `at`-th row of the whole source."""
        fields = self.order_fields()
        if not fields:
            return (at,)
        return tuple(getattr(row, "pk" if f == "id" else f) for f in fields)

    def expand_rows(self, found: Sequence[Any]) -> list[list[Resource]]:
        """The resources of each row, row by row."""
        return [self.expand([row]) for row in found]

    def after(
        self, position: Position, limit: int
    ) -> list[tuple[Key, int, Patient | None, Resource]]:
        """Up to `limit` resources from `position` on (keyset paging, no OFFSET):
        each with its row's sort key, its place in the row, and its patient."""
        if limit <= 0:
            return []
        need = -(-(limit + position.skip) // self.per_row)
        if isinstance(self.queryset, QuerySet):
            qs = self.queryset
            if position.key is not None:
                qs = qs.filter(_from_key(self.order_fields(), position.key))
            found = list(qs[:need])
            first = 0
        else:  # a list: its key is the row's place in it
            first = position.key[0] if position.key is not None else 0
            if not isinstance(first, int) or first < 0:
                raise FhirError(400, "_cursor: not a position in this search.")
            found = list(self.queryset[first : first + need])
        out: list[tuple[Key, int, Patient | None, Resource]] = []
        for n, (row, resources) in enumerate(
            zip(found, self.expand_rows(found), strict=True)
        ):
            key = self.key_of(row, first + n)
            skip = position.skip if key == position.key else 0
            patient = self.patient_of(row)
            out.extend(
                (key, j, patient, r) for j, r in enumerate(resources) if j >= skip
            )
        return out[:limit]

    def sizes(self, found: Sequence[Any]) -> list[int]:
        """How many resources each row yields (without rendering them)."""
        return [self.per_row] * len(found)

    def before(self, end: Position | None, limit: int) -> list[tuple[Key, int]]:
        """The last `limit` resources before `end` (None: this source's end), in
        order, each as its row's sort key and its place in the row: where the page
        before a page starts (the `previous` link). Keyset again: the rows before
        the key, in reverse sort order, never an OFFSET."""
        end_key = None if end is None else end.key
        if limit <= 0 or (end is not None and end_key is None):
            return []
        out: list[tuple[Key, int]] = []
        if not isinstance(self.queryset, QuerySet):
            stop = self.queryset.count() if end_key is None else end_key[0]
            if not isinstance(stop, int) or stop < 0:
                raise FhirError(400, "_cursor: not a position in this search.")
            if end is not None and end.skip:
                stop += 1  # the row the page starts in, partly before it
            first = max(0, stop - (-(-limit // self.per_row) + 1))
            found = list(self.queryset[first:stop])
            keyed = [((first + n,), row) for n, row in enumerate(found)]
        else:
            fields = self.order_fields()
            qs = self.queryset
            if end is not None and end_key is not None:
                qs = qs.filter(_before_key(fields, end_key, end.skip > 0))
            need = -(-limit // self.per_row) + 1
            keyed = []
            while True:
                found = list(qs.reverse()[:need])
                keyed[:0] = [(self.key_of(row, 0), row) for row in reversed(found)]
                have = sum(self.sizes([row for _, row in keyed]))
                if len(found) < need or have >= limit + (end.skip if end else 0):
                    break
                qs = qs.filter(_before_key(fields, keyed[0][0], False))
        sizes = self.sizes([row for _, row in keyed])
        for (key, _), size in zip(keyed, sizes, strict=True):
            if end is not None and key == end.key:
                size = min(size, end.skip)
            out.extend((key, j) for j in range(size))
        return out[-limit:]

    def all(self) -> list[tuple[Patient | None, Resource]]:
        """Every resource of this source, each with its patient (not paged)."""
        if isinstance(self.queryset, QuerySet):
            found = list(self.queryset)
        else:
            found = list(self.queryset[0 : self.queryset.count()])
        return [
            (self.patient_of(row), r)
            for row, resources in zip(found, self.expand_rows(found), strict=True)
            for r in resources
        ]

    def batches(self, size: int) -> Iterator[list[Any]]:
        """Every row, `size` at a time, walked by primary key (keyset paging).

        For bulk export: no COUNT and no OFFSET, so each batch costs the same
        however deep into the table it is. The order is the primary key's, not the
        search's; an export promises no order.
        """
        if not isinstance(self.queryset, QuerySet):
            items = list(self.queryset[0 : self.queryset.count()])
            for at in range(0, len(items), size):
                yield items[at : at + size]
            return
        qs = self.queryset.order_by("pk")
        if self.values:
            yield from _value_batches(qs, self.values, size)
            return
        if self.only:
            qs = qs.only(*self.only)
        last: Any = None
        while True:
            found = list((qs if last is None else qs.filter(pk__gt=last))[:size])
            if found:
                yield found
            if len(found) < size:
                return
            last = found[-1].pk


class Row:
    """A light row for `expand`: attributes as on the model, nested for relations
    (`row.patient.uuid`); a relation whose columns are all NULL is None."""

    pk: Any

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def row_builder(columns: tuple[str, ...]) -> Callable[[tuple[Any, ...]], Row]:
    """A function from a values_list tuple ("pk" first, then `columns`) to a Row."""
    top: list[tuple[str, int]] = [("pk", 0), ("id", 0)]
    nested: dict[str, list[tuple[str, int]]] = {}
    for n, column in enumerate(columns, start=1):
        head, _, rest = column.partition("__")
        if rest:
            nested.setdefault(head, []).append((rest, n))
        else:
            top.append((column, n))
    inner = {
        head: row_builder(tuple(rest for rest, _ in parts))
        for head, parts in nested.items()
    }
    picks = {head: [n for _, n in parts] for head, parts in nested.items()}

    def build(values: tuple[Any, ...]) -> Row:
        attrs = {name: values[n] for name, n in top}
        for head, build_inner in inner.items():
            sub = [values[n] for n in picks[head]]
            attrs[head] = (
                None
                if all(v is None for v in sub)
                else build_inner((sub[0], *sub))  # its pk: its first column
            )
        return Row(**attrs)

    return build


def _value_batches(
    qs: QuerySet[Any], columns: tuple[str, ...], size: int
) -> Iterator[list[Row]]:
    """`batches` with value tuples, as light rows."""
    build = row_builder(columns)
    for found in value_tuples(qs, columns, size):
        yield [build(v) for v in found]


def value_tuples(
    qs: QuerySet[Any], columns: tuple[str, ...], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Value tuples ("pk", then `columns`), keyset by primary key, `size` at a time.

    The row's own JSON columns are read as their text and decoded with orjson (the
    same values as the JSONField's json.loads gives, several times faster)."""
    selected: list[str] = []
    as_text: dict[str, Cast] = {}
    decode: list[int] = []
    for n, column in enumerate(columns, start=1):
        field = None if "__" in column else qs.model._meta.get_field(column)
        if isinstance(field, models.JSONField):
            alias = f"_text_{column}"
            as_text[alias] = Cast(column, output_field=models.TextField())
            selected.append(alias)
            decode.append(n)
        else:
            selected.append(column)
    qs = qs.annotate(**as_text).values_list("pk", *selected)
    last: Any = None
    while True:
        found = list((qs if last is None else qs.filter(pk__gt=last))[:size])
        if found:
            if decode:
                batch = []
                for values in found:
                    row = list(values)
                    for n in decode:
                        if row[n] is not None:
                            row[n] = orjson.loads(row[n])
                    batch.append(tuple(row))
                yield batch
            else:
                yield found
        if len(found) < size:
            return
        last = found[-1][0]


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR search parameter type, for the CapabilityStatement
    documentation: str


@dataclass(frozen=True)
class ResourceType:
    name: str
    capability: Capability | None  # None: any signed-in member of staff
    params: tuple[SearchParam, ...]
    search: Callable[[User, Params], list[Source]]
    read: Callable[[User, str], tuple[Patient | None, Resource]]
    profiles: tuple[str, ...] = field(default=())
    patient_data: bool = True
    # Every version of one resource, oldest first, each with meta.versionId; None:
    # this type's records change without their versions being kept (no history).
    history: Callable[[User, str], tuple[Patient | None, list[Resource]]] | None = None
    # Every representation (read, search, export) carries meta.versionId.
    versioned: bool = False
    # CapabilityStatement.rest.resource.documentation: what history means here.
    documentation: str = ""
    # With capability None: the user needs at least one of these (each source of
    # the type checks its own).
    any_of: tuple[Capability, ...] = ()

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)


def authorise(
    user: User, resource_type: ResourceType, scopes: list[str] | None = None
) -> None:
    """The one capability check for the FHIR server (and a SMART token's scopes)."""
    if scopes is not None and not may_read(scopes, resource_type.name):
        raise FhirError(403, f"The token's scopes do not cover {resource_type.name}.")
    if resource_type.capability is not None and not user.can(resource_type.capability):
        raise FhirError(403, f"Your role may not read {resource_type.name} resources.")
    if resource_type.any_of and not any(user.can(c) for c in resource_type.any_of):
        raise FhirError(403, f"Your role may not read {resource_type.name} resources.")
    if resource_type.patient_data and not user.can(Capability.VIEW_PATIENT_LIST):
        raise FhirError(403, f"Your role may not read {resource_type.name} resources.")


# Shared filters -------------------------------------------------------------------


def _from_key(fields: tuple[str, ...], key: Key) -> Q:
    """Rows sorting at or after `key` on `fields`: (f1 > k1) or (f1 = k1 and f2 > k2)
    ... or (all equal). The sort fields are never NULL (their models say so)."""
    if len(key) != len(fields) or any(v is None for v in key):
        raise FhirError(400, "_cursor: not a position in this search.")
    q = Q(**dict(zip(fields, key, strict=True)))
    for n in range(len(fields)):
        equal = dict(zip(fields[:n], key[:n], strict=True))
        q |= Q(**equal, **{f"{fields[n]}__gt": key[n]})
    return q


def _before_key(fields: tuple[str, ...], key: Key, inclusive: bool) -> Q:
    """Rows sorting before `key` on `fields` (or at it, when `inclusive`)."""
    if len(key) != len(fields) or any(v is None for v in key):
        raise FhirError(400, "_cursor: not a position in this search.")
    q = Q(**dict(zip(fields, key, strict=True))) if inclusive else Q(pk__in=[])
    for n in range(len(fields)):
        equal = dict(zip(fields[:n], key[:n], strict=True))
        q |= Q(**equal, **{f"{fields[n]}__lt": key[n]})
    return q


def _visible(user: User) -> QuerySet[Patient]:
    return Patient.objects.visible_to(user)


def _date_q(field_name: str, found: DateRange) -> Q:
    lo, hi = found.start, found.end
    match found.prefix:
        case "eq":
            return Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})
        case "ne":
            return ~Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})
        case "lt":
            return Q(**{f"{field_name}__lt": lo})
        case "le":
            return Q(**{f"{field_name}__lt": hi})
        case "gt":
            return Q(**{f"{field_name}__gte": hi})
        case _:  # ge
            return Q(**{f"{field_name}__gte": lo})


def _common(
    qs: QuerySet[Any],
    params: Params,
    *,
    patient_field: str,
    date_field: str | None,
    date_param: str = "date",
) -> QuerySet[Any]:
    """`_id`, `patient`/`subject` and the date parameter, shared by every clinical type."""
    for name, value in params:
        if name in ("patient", "subject"):
            qs = qs.filter(
                **{
                    f"{patient_field}__uuid__in": parse_references(
                        name, value, "Patient"
                    )
                }
            )
        elif (name == date_param and date_field is not None) or (
            name == "_lastUpdated" and date_field is not None
        ):
            qs = qs.filter(_date_q(date_field, parse_date(name, value)))
    return qs


def _ids(params: Params) -> list[str] | None:
    values = [v for n, v in params if n == "_id"]
    if not values:
        return None
    return [part for v in values for part in v.split(",")]


def _uuid_ids(params: Params) -> list[UUID] | None:
    ids = _ids(params)
    if ids is None:
        return None
    return [u for u in (parse_uuid("_id", i) for i in ids) if u is not None]


def _get(qs: QuerySet[Any], **lookup: Any) -> Any:
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError):
        raise FhirError(404, "No such resource.") from None


def _uuid_or_404(raw: str) -> UUID:
    found = parse_uuid("id", raw)
    if found is None:
        raise FhirError(404, "No such resource.")
    return found


_PATIENT_PARAM = SearchParam("patient", "reference", "The patient (Patient/<id>).")
_SUBJECT_PARAM = SearchParam("subject", "reference", "Same as patient.")
_ID_PARAM = SearchParam("_id", "token", "Resource id; several with commas.")
_LAST_UPDATED = SearchParam("_lastUpdated", "date", "As `date`.")


# Patient ----------------------------------------------------------------------------


def _patient_qs(user: User) -> QuerySet[Patient]:
    return _visible(user).order_by("family_name_search", "given_name_search", "id")


def _name_q(field_names: Sequence[str], value: str) -> Q:
    q = Q()
    for word in search_key(value).split()[:4]:
        any_field = Q()
        for f in field_names:
            any_field |= Q(**{f"{f}__startswith": word})
        q &= any_field
    return q


_BIRTHDATE_LOOKUPS = {
    "eq": lambda lo, hi: Q(birth_date__gte=lo, birth_date__lt=hi),
    "ne": lambda lo, hi: ~Q(birth_date__gte=lo, birth_date__lt=hi),
    "lt": lambda lo, hi: Q(birth_date__lt=lo),
    "le": lambda lo, hi: Q(birth_date__lt=hi),
    "gt": lambda lo, hi: Q(birth_date__gte=hi),
    "ge": lambda lo, hi: Q(birth_date__gte=lo),
}
_GENDERS = {
    "female": ["female"],
    "male": ["male"],
    "other": ["intersex"],
    "unknown": ["unknown", "declined"],
}


_PATIENT_VALUES = (
    "uuid",
    "mrn",
    "family_name",
    "given_name",
    "middle_name",
    "preferred_name",
    "birth_date",
    "sex_at_birth",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "preferred_language",
    "updated_at",
)


def _search_patients(user: User, params: Params) -> list[Source]:
    qs = _patient_qs(user)
    ids = _uuid_ids(params)
    if ids is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "identifier":
            tokens = parse_token(name, value)
            q = Q()
            for t in tokens:
                if t.system in (None, MRN_SYSTEM):
                    q |= Q(mrn=t.code)
                if t.system != MRN_SYSTEM:
                    # Another system's identifier (interop.PatientIdentifier); with
                    # no system, a value in any of them.
                    held = PatientIdentifier.objects.filter(value=t.code)
                    if t.system is not None:
                        held = held.filter(system=t.system)
                    q |= Q(pk__in=held.values("patient_id"))
            qs = qs.filter(q) if q else qs.none()
        elif name == "name":
            qs = qs.filter(
                _name_q(
                    (
                        "family_name_search",
                        "given_name_search",
                        "preferred_name_search",
                    ),
                    value,
                )
            )
        elif name == "family":
            qs = qs.filter(_name_q(("family_name_search",), value))
        elif name == "given":
            qs = qs.filter(
                _name_q(("given_name_search", "preferred_name_search"), value)
            )
        elif name == "birthdate":
            prefix, lo, hi = parse_birthdate(name, value)
            qs = qs.filter(_BIRTHDATE_LOOKUPS[prefix](lo, hi))
        elif name == "gender":
            sexes = [
                s for t in parse_token(name, value) for s in _GENDERS.get(t.code, [])
            ]
            qs = qs.filter(sex_at_birth__in=sexes)
        elif name == "_lastUpdated":
            qs = qs.filter(_date_q("updated_at", parse_date(name, value)))
    return [Source(qs, rows.patients, lambda p: p, values=_PATIENT_VALUES)]


def _read_patient(user: User, raw: str) -> tuple[Patient, Resource]:
    p = _get(_visible(user), uuid=_uuid_or_404(raw))
    return p, rows.patients([p])[0]


# Condition ----------------------------------------------------------------------

_CONDITION_COLUMNS = (
    "uuid",
    "patient__uuid",
    "icd10_code",
    "description",
    "recorded_at",
    "ended_at",
    "end_reason",
)


def _condition_qs(user: User) -> QuerySet[Diagnosis]:
    return (
        Diagnosis.objects.filter(patient__in=_visible(user))
        .select_related("patient")
        .order_by("recorded_at", "id")
    )


def _token_matches(tokens: list[Token], system: str, codes_: Sequence[str]) -> bool:
    return any(t.system in (None, system) and t.code in codes_ for t in tokens)


def _search_conditions(user: User, params: Params) -> list[Source]:
    qs = _common(
        _condition_qs(user),
        params,
        patient_field="patient",
        date_field="recorded_at",
        date_param="recorded-date",
    )
    ids = _uuid_ids(params)
    if ids is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "code":
            q = Q()
            for t in parse_token(name, value):
                if t.system in (None, ICD10_CM):
                    q |= Q(icd10_code=t.code)
            qs = qs.filter(q) if q else qs.none()
        elif name == "clinical-status":
            wanted = {t.code for t in parse_token(name, value)}
            q = Q(pk__in=[])
            if "active" in wanted:
                q |= Q(ended_at__isnull=True)
            if "resolved" in wanted:
                q |= Q(ended_at__isnull=False) & ~Q(end_reason="entered_in_error")
            qs = qs.filter(q)
    return [
        Source(
            qs,
            rows.conditions,
            lambda d: d.patient,
            only=_CONDITION_COLUMNS,
            values=_values(_CONDITION_COLUMNS),
        )
    ]


def _read_condition(user: User, raw: str) -> tuple[Patient, Resource]:
    d = _get(_condition_qs(user), uuid=_uuid_or_404(raw))
    return d.patient, rows.conditions([d])[0]


# QuestionnaireResponse and score Observations --------------------------------------

_RESPONSE_COLUMNS = (
    "uuid",
    "patient__uuid",
    "entered_by__uuid",
    "instrument_code",
    "instrument_version",
    "answers",
    "sex_for_scoring",
    "completed_at",
    "source",
    "amends",
)
_SCORE_COLUMNS = (
    *_RESPONSE_COLUMNS,
    "total",
    "severity",
    "flags",
    "subscales",
    "triage",
    "raises_safety_alert",
)
_VITAL_COLUMNS = (
    "session__uuid",
    "session__patient__uuid",
    "taken_at",
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_percent",
    "respiratory_rate_per_min",
    "etco2_mmhg",
)


def _values(only: tuple[str, ...]) -> tuple[str, ...]:
    """`only` columns as value columns: the patient's primary key first (what
    `patient_of` counts), a foreign key by its own column (`amends_id`)."""
    patient = next(c for c in only if c.endswith("patient__uuid"))
    return (
        patient.replace("__uuid", "__id"),
        *("amends_id" if c == "amends" else c for c in only),
    )


def _response_qs(user: User) -> QuerySet[QuestionnaireResponse]:
    return (
        QuestionnaireResponse.objects.filter(patient__in=_visible(user))
        .select_related("patient", "entered_by")
        .order_by("completed_at", "id")
    )


def _current_responses(user: User) -> QuerySet[QuestionnaireResponse]:
    """Responses no amendment has replaced. NOT EXISTS rather than
    `amended_by__isnull` (a LEFT JOIN and an IS NULL filter): PostgreSQL estimated
    that join at one row and so read and sorted every row after the cursor for
    each page or export batch (1 s a batch at 50,000 responses, growing with the
    table); the anti-join lets it walk the index and stop at the LIMIT (20 ms)."""
    replaced = QuestionnaireResponse.objects.filter(amends=OuterRef("pk"))
    return _response_qs(user).filter(~Exists(replaced))


def _search_responses(user: User, params: Params) -> list[Source]:
    qs = _common(
        _current_responses(user),
        params,
        patient_field="patient",
        date_field="completed_at",
        date_param="authored",
    )
    ids = _uuid_ids(params)
    if ids is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "questionnaire":
            wanted = [
                code
                for code, instrument in INSTRUMENTS.items()
                if value
                in (questionnaire_canonical(instrument), codes.questionnaire_url(code))
                or value.split("|")[0] == codes.questionnaire_url(code)
            ]
            qs = qs.filter(instrument_code__in=wanted)
    return [
        Source(
            qs,
            rows.questionnaire_responses,
            lambda r: r.patient,
            only=_RESPONSE_COLUMNS,
            values=_values(_RESPONSE_COLUMNS),
            lines=export_lines.Responses,
        )
    ]


def _read_response(user: User, raw: str) -> tuple[Patient, Resource]:
    r = _get(_response_qs(user), uuid=_uuid_or_404(raw))
    return r.patient, rows.questionnaire_responses([r])[0]


def _vital_qs(user: User) -> QuerySet[VitalReading]:
    return (
        VitalReading.objects.filter(session__patient__in=_visible(user))
        .select_related("session__patient")
        .order_by("taken_at", "id")
    )


def _score_codes() -> dict[str, list[str]]:
    """Observation code -> instrument codes whose total carries it."""
    found: dict[str, list[str]] = {}
    for code, instrument in INSTRUMENTS.items():
        found.setdefault(score_code(instrument).code, []).append(code)
    return found


def _search_observations(user: User, params: Params) -> list[Source]:
    categories: set[str] | None = None
    score_instruments: list[str] | None = None
    vital_kinds: list[str] = list(ALL_VITAL_KINDS)
    imported_codes: set[str] | None = None
    # `_lastUpdated` is when each source's record was stored (none of them changes
    # afterwards): applied per source below, not as `date`.
    updated = [parse_date(n, v) for n, v in params if n == "_lastUpdated"]
    params = [(n, v) for n, v in params if n != "_lastUpdated"]
    for name, value in params:
        if name == "category":
            wanted = {t.code for t in parse_token(name, value)}
            categories = wanted if categories is None else categories & wanted
        elif name == "code":
            tokens = parse_token(name, value)
            by_code = _score_codes()
            score_instruments = [i for t in tokens for i in by_code.get(t.code, [])]
            imported_codes = {t.code for t in tokens if t.system in (None, codes.LOINC)}
            vital_kinds = [
                k
                for k in ALL_VITAL_KINDS
                if any(
                    VITAL_CODES.get(t.code) == k and t.system in (None, codes.LOINC)
                    for t in tokens
                )
            ]
    sources: list[Source] = []
    ids = _ids(params)
    if categories is None or "survey" in categories:
        qs = _common(
            _current_responses(user),
            params,
            patient_field="patient",
            date_field="completed_at",
        )
        if score_instruments is not None:
            qs = qs.filter(instrument_code__in=score_instruments)
        for found in updated:
            qs = qs.filter(_date_q("created_at", found))
        if ids is not None:
            qs = qs.filter(
                uuid__in=[u for u in (parse_uuid("_id", i) for i in ids) if u]
            )
        sources.append(
            Source(
                qs,
                rows.score_observations,
                lambda r: r.patient,
                only=_SCORE_COLUMNS,
                values=_values(_SCORE_COLUMNS),
                lines=export_lines.Scores,
            )
        )
    if (categories is None or "vital-signs" in categories) and vital_kinds:
        qs_v = _common(
            _vital_qs(user),
            params,
            patient_field="session__patient",
            date_field="taken_at",
        )
        for found in updated:
            qs_v = qs_v.filter(_date_q("received_at", found))
        if ids is not None:
            keys = [_vital_key(i) for i in ids]
            q = Q(pk__in=[])
            for key in keys:
                if key is not None:
                    q |= Q(session__uuid=key[0], pk=key[1])
            qs_v = qs_v.filter(q)
            vital_kinds = [
                k for k in vital_kinds if any(i.endswith(f"-{k}") for i in ids)
            ]
        kinds = tuple(k for k in vital_kinds if k not in OPTIONAL_VITAL_KINDS)
        if kinds:
            sources.append(
                Source(
                    qs_v,
                    functools.partial(rows.vitals, kinds=kinds),
                    lambda v: v.session.patient,
                    per_row=len(kinds),
                    only=_VITAL_COLUMNS,
                    values=_values(_VITAL_COLUMNS),
                )
            )
        # One source per optional kind, over only the readings that have it, so
        # every row still yields exactly `per_row` resources (paging counts on it).
        for kind in OPTIONAL_VITAL_KINDS:
            if kind in vital_kinds:
                sources.append(
                    Source(
                        qs_v.filter(**{f"{kind}_mmhg__isnull": False}),
                        functools.partial(rows.vitals, kinds=(kind,)),
                        lambda v: v.session.patient,
                        only=_VITAL_COLUMNS,
                        values=_values(_VITAL_COLUMNS),
                    )
                )
    sources.extend(
        _imported_observations(user, params, categories, imported_codes, updated)
    )
    return sources


_IMPORTED_COLUMNS = (
    "uuid",
    "patient__uuid",
    "loinc_code",
    "name",
    "value",
    "unit",
    "effective_at",
    "imported_at",
)


def _imported_qs(user: User) -> QuerySet[ImportedObservation]:
    return (
        ImportedObservation.objects.filter(patient__in=_visible(user))
        .select_related("patient")
        .order_by("effective_at", "id")
    )


def _imported_observations(
    user: User,
    params: Params,
    categories: set[str] | None,
    wanted_codes: set[str] | None,
    updated: list[DateRange],
) -> list[Source]:
    """Vital signs and outside questionnaire totals brought in by an import
    (`interop.ImportedObservation`), one Observation a row, id `imported-<uuid>`."""
    survey = Q(loinc_code__in=sorted(IMPORTED_SURVEY_CODES))
    q = Q(pk__in=[])
    if categories is None or "vital-signs" in categories:
        q |= ~survey
    if categories is None or "survey" in categories:
        q |= survey
    qs = _common(
        _imported_qs(user).filter(q),
        params,
        patient_field="patient",
        date_field="effective_at",
    )
    if wanted_codes is not None:
        qs = qs.filter(loinc_code__in=sorted(wanted_codes))
    for found in updated:
        qs = qs.filter(_date_q("imported_at", found))
    ids = _ids(params)
    if ids is not None:
        qs = qs.filter(
            uuid__in=[
                u
                for i in ids
                if i.startswith(IMPORTED_ID_PREFIX)
                for u in (parse_uuid("_id", i.removeprefix(IMPORTED_ID_PREFIX)),)
                if u is not None
            ]
        )
    return [
        Source(
            qs,
            rows.imported_observations,
            lambda o: o.patient,
            only=_IMPORTED_COLUMNS,
            values=_values(_IMPORTED_COLUMNS),
        )
    ]


def _vital_key(raw: str) -> tuple[UUID, int, str] | None:
    """`<session uuid>-<reading number>-<kind>`, else None."""
    head, _, kind = raw.rpartition("-")
    session_part, _, number = head.rpartition("-")
    if kind not in ALL_VITAL_KINDS or not number.isdigit():
        return None
    session_uuid = parse_uuid("id", session_part)
    if session_uuid is None:
        return None
    return session_uuid, int(number), kind


def _read_observation(user: User, raw: str) -> tuple[Patient, Resource]:
    if raw.startswith(IMPORTED_ID_PREFIX):
        o = _get(_imported_qs(user), uuid=_uuid_or_404(raw[len(IMPORTED_ID_PREFIX) :]))
        return o.patient, rows.imported_observations([o])[0]
    key = _vital_key(raw)
    if key is not None:
        v = _get(_vital_qs(user), session__uuid=key[0], pk=key[1])
        found = rows.vitals([v], (key[2],))
        if not found:  # an optional kind this reading does not have
            raise FhirError(404, "No such resource.")
        return v.session.patient, found[0]
    r = _get(_response_qs(user), uuid=_uuid_or_404(raw))
    return r.patient, rows.score_observations([r])[0]


# Questionnaire (no patient data) ------------------------------------------------------


def _questionnaires(found: Sequence[Any]) -> list[Resource]:
    return [questionnaire_resource(i) for i in found]


class _InstrumentList:
    """The instrument registry as a sliceable, countable "queryset" for `Source`."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def count(self) -> int:
        return len(self.items)

    def __getitem__(self, s: slice) -> list[Any]:
        return self.items[s]


def _search_questionnaires(user: User, params: Params) -> list[Source]:
    found = list(INSTRUMENTS.values())
    ids = _ids(params)
    if ids is not None:
        found = [i for i in found if questionnaire_id(i) in ids]
    for name, value in params:
        if name == "url":
            found = [
                i
                for i in found
                if value.split("|")[0] == codes.questionnaire_url(i.code)
            ]
    return [Source(_InstrumentList(found), _questionnaires, lambda i: None)]


def _read_questionnaire(user: User, raw: str) -> tuple[None, Resource]:
    for instrument in INSTRUMENTS.values():
        if questionnaire_id(instrument) == raw:
            return None, questionnaire_resource(instrument)
    raise FhirError(404, "No such resource.")


# Encounter and MedicationAdministration ------------------------------------------


def _session_qs(user: User) -> QuerySet[InfusionSession]:
    return (
        InfusionSession.objects.filter(patient__in=_visible(user))
        .select_related("patient", "location")
        .order_by("checked_in_at", "id")
    )


_ENCOUNTER_STATUSES = {
    "arrived": ["checked_in"],
    "in-progress": ["running", "paused", "recovery"],
    "finished": ["discharged", "closed"],
    "cancelled": ["cancelled"],
}


def _search_encounters(user: User, params: Params) -> list[Source]:
    qs = _common(
        _session_qs(user), params, patient_field="patient", date_field="checked_in_at"
    )
    ids = _uuid_ids(params)
    if ids is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "status":
            statuses = [
                s
                for t in parse_token(name, value)
                for s in _ENCOUNTER_STATUSES.get(t.code, [])
            ]
            qs = qs.filter(status__in=statuses)
    return [Source(qs, rows.encounters, lambda s: s.patient)]


def _read_encounter(user: User, raw: str) -> tuple[Patient, Resource]:
    s = _get(_session_qs(user), uuid=_uuid_or_404(raw))
    return s.patient, rows.encounters([s])[0]


def _administration_qs(user: User) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.ADMINISTER, patient__in=_visible(user)
        )
        .select_related("patient", "actor")
        .order_by("occurred_at", "id")
    )


class _Batched(Source):
    """A source whose rows are expanded a page at a time (one lookup per page)."""

    def expand_rows(self, found: Sequence[Any]) -> list[list[Resource]]:
        return [[r] for r in self.expand(found)]


def _search_administrations(user: User, params: Params) -> list[Source]:
    qs = _common(
        _administration_qs(user),
        params,
        patient_field="patient",
        date_field="occurred_at",
        date_param="effective-time",
    )
    ids = _uuid_ids(params)
    if ids is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "code" and not _token_matches(
            parse_token(name, value), KETAMINE.system, [KETAMINE.code]
        ):
            qs = qs.none()
        elif name == "context":
            qs = qs.filter(
                session_ref__in=[
                    str(u) for u in parse_references(name, value, "Encounter")
                ]
            )
    return [_Batched(qs, rows.medication_administrations, lambda e: e.patient)]


def _read_administration(user: User, raw: str) -> tuple[Patient, Resource]:
    e = _get(_administration_qs(user), uuid=_uuid_or_404(raw))
    return e.patient, rows.medication_administrations([e])[0]


# Consent --------------------------------------------------------------------------


def _consent_qs(user: User) -> QuerySet[ConsentSignature]:
    return (
        ConsentSignature.objects.filter(patient__in=_visible(user))
        .select_related("patient", "document")
        .order_by("signed_at", "id")
    )


def _search_consents(user: User, params: Params) -> list[Source]:
    qs = _common(
        _consent_qs(user), params, patient_field="patient", date_field="signed_at"
    )
    ids = _uuid_ids(params)
    if ids is not None:
        qs = qs.filter(uuid__in=ids)
    return [Source(qs, rows.consents, lambda c: c.patient)]


def _read_consent(user: User, raw: str) -> tuple[Patient, Resource]:
    c = _get(_consent_qs(user), uuid=_uuid_or_404(raw))
    return c.patient, rows.consents([c])[0]


# Organization, Location, Practitioner, PractitionerRole (the user's own clinic) -----


def _own_clinic(user: User) -> Q:
    """Rows of the user's organization; none for a user without one."""
    if user.organization_id is None:
        return Q(pk__in=[])
    return Q(organization_id=user.organization_id)


def _organization_qs(user: User) -> QuerySet[Organization]:
    if user.organization_id is None:
        return Organization.objects.none()
    return Organization.objects.filter(pk=user.organization_id).order_by("id")


def _name_contains(qs: QuerySet[Any], params: Params, *fields: str) -> QuerySet[Any]:
    for name, value in params:
        if name == "name":
            q = Q()
            for f in fields:
                q |= Q(**{f"{f}__icontains": value[:100]})
            qs = qs.filter(q)
    return qs


def _search_organizations(user: User, params: Params) -> list[Source]:
    qs = _organization_qs(user)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    qs = _name_contains(qs, params, "name")
    return [Source(qs, rows.organizations, lambda o: None)]


def _read_organization(user: User, raw: str) -> tuple[None, Resource]:
    o = _get(_organization_qs(user), uuid=_uuid_or_404(raw))
    return None, rows.organizations([o])[0]


def _location_qs(user: User) -> QuerySet[Location]:
    return (
        Location.objects.filter(_own_clinic(user))
        .select_related("organization")
        .order_by("name", "id")
    )


def _search_locations(user: User, params: Params) -> list[Source]:
    qs = _location_qs(user)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    qs = _name_contains(qs, params, "name")
    for name, value in params:
        if name == "organization":
            qs = qs.filter(
                organization__uuid=parse_reference(name, value, "Organization")
            )
    return [Source(qs, rows.locations, lambda loc: None)]


def _read_location(user: User, raw: str) -> tuple[None, Resource]:
    loc = _get(_location_qs(user), uuid=_uuid_or_404(raw))
    return None, rows.locations([loc])[0]


def _staff_qs(user: User) -> QuerySet[User]:
    return (
        User.objects.filter(_own_clinic(user))
        .select_related("organization")
        .prefetch_related("groups")
        .order_by("last_name", "first_name", "id")
    )


def _search_practitioners(user: User, params: Params) -> list[Source]:
    qs = _staff_qs(user)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    qs = _name_contains(qs, params, "first_name", "last_name")
    return [_Batched(qs, rows.practitioners, lambda u: None)]


def _read_practitioner(user: User, raw: str) -> tuple[None, Resource]:
    u = _get(_staff_qs(user), uuid=_uuid_or_404(raw))
    return None, rows.practitioners([u])[0]


def _search_practitioner_roles(user: User, params: Params) -> list[Source]:
    qs = _staff_qs(user)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "practitioner":
            qs = qs.filter(uuid=parse_reference(name, value, "Practitioner"))
        elif name == "organization":
            qs = qs.filter(
                organization__uuid=parse_reference(name, value, "Organization")
            )
    return [_Batched(qs, rows.practitioner_roles, lambda u: None)]


def _read_practitioner_role(user: User, raw: str) -> tuple[None, Resource]:
    u = _get(_staff_qs(user), uuid=_uuid_or_404(raw))
    return None, rows.practitioner_roles([u])[0]


# AllergyIntolerance and MedicationStatement (the chart's lists) --------------------


def _last_change() -> Coalesce:
    """A list entry changes when it is recorded and when it is ended; nothing else."""
    return Coalesce(F("ended_at"), F("recorded_at"))


def _allergy_qs(user: User) -> QuerySet[Allergy]:
    return (
        Allergy.objects.filter(patient__in=_visible(user))
        .annotate(last_change=_last_change())
        .select_related("patient", "recorded_by")
        .order_by("recorded_at", "id")
    )


def _list_status_q(wanted: set[str], *, active: str, ended: str) -> Q:
    q = Q(pk__in=[])
    if active in wanted:
        q |= Q(ended_at__isnull=True)
    if ended in wanted:
        q |= Q(ended_at__isnull=False) & ~Q(end_reason="entered_in_error")
    if "entered-in-error" in wanted:
        q |= Q(end_reason="entered_in_error")
    return q


def _search_allergies(user: User, params: Params) -> list[Source]:
    qs = _common(
        _allergy_qs(user), params, patient_field="patient", date_field="last_change"
    )
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "clinical-status":
            wanted = {t.code for t in parse_token(name, value)}
            qs = qs.filter(
                _list_status_q(
                    wanted - {"entered-in-error"}, active="active", ended="resolved"
                )
            )
    return [_Batched(qs, rows.allergies, lambda a: a.patient)]


def _read_allergy(user: User, raw: str) -> tuple[Patient, Resource]:
    a = _get(_allergy_qs(user), uuid=_uuid_or_404(raw))
    return a.patient, rows.allergies([a])[0]


def _medication_qs(user: User) -> QuerySet[Medication]:
    return (
        Medication.objects.filter(patient__in=_visible(user))
        .annotate(last_change=_last_change())
        .select_related("patient", "recorded_by")
        .order_by("recorded_at", "id")
    )


def _search_medication_statements(user: User, params: Params) -> list[Source]:
    qs = _common(_medication_qs(user), params, patient_field="patient", date_field=None)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if (
            name == "_lastUpdated"
        ):  # no `date` search here, but export's _since uses this
            qs = qs.filter(_date_q("last_change", parse_date(name, value)))
        elif name == "status":
            wanted = {t.code for t in parse_token(name, value)}
            qs = qs.filter(_list_status_q(wanted, active="active", ended="completed"))
    return [_Batched(qs, rows.medication_statements, lambda m: m.patient)]


def _read_medication_statement(user: User, raw: str) -> tuple[Patient, Resource]:
    m = _get(_medication_qs(user), uuid=_uuid_or_404(raw))
    return m.patient, rows.medication_statements([m])[0]


# DocumentReference and Binary (signed letters, consents and infusion notes) -------


@dataclass(frozen=True)
class DocumentKind:
    """One kind of signed document: who may read it, its rows, and its PDF."""

    name: str  # our code (documents.KINDS)
    capability: Capability
    queryset: Callable[[User], QuerySet[Any]]
    expand: Callable[..., list[Resource]]
    patient_of: Callable[[Any], Patient]
    pdf: Callable[[Any], bytes]
    lookup: str = "uuid"  # the field the FHIR id is


def _latest(model: Any, link: str, at: str) -> Subquery:
    return Subquery(
        model.objects.filter(**{link: OuterRef("pk")}).order_by(f"-{at}").values(at)[:1]
    )


def _letter_qs(user: User) -> QuerySet[Letter]:
    return (
        Letter.objects.filter(
            patient__in=_visible(user),
            status=Letter.Status.SIGNED,
            signed_at__isnull=False,
        )
        .annotate(
            last_change=Coalesce(
                _latest(LetterAddendum, "letter", "signed_at"), F("signed_at")
            ),
            amended=Exists(LetterAddendum.objects.filter(letter=OuterRef("pk"))),
        )
        .select_related("patient", "template", "organization", "signed_by")
        .order_by("signed_at", "id")
    )


def _signed_consent_qs(user: User) -> QuerySet[ConsentSignature]:
    return (
        ConsentSignature.objects.filter(patient__in=_visible(user))
        .exclude(pdf="")
        .annotate(last_change=F("signed_at"))
        .select_related("patient", "document", "organization")
        .order_by("signed_at", "id")
    )


def _note_qs(user: User) -> QuerySet[InfusionNote]:
    last_addendum = Coalesce(_latest(NoteAddendum, "note", "added_at"), F("signed_at"))
    return (
        InfusionNote.objects.filter(session__patient__in=_visible(user))
        .annotate(
            last_change=Greatest(
                last_addendum, Coalesce(F("cosigned_at"), F("signed_at"))
            ),
            amended=Exists(NoteAddendum.objects.filter(note=OuterRef("pk"))),
        )
        .select_related("session__patient__organization", "signed_by", "cosigned_by")
        .order_by("signed_at", "id")
    )


def _letter_pdf(letter: Letter) -> bytes:
    from neuroclinic.letters.pdf import letter_pdf

    return letter_pdf(letter)


def _consent_pdf(signature: ConsentSignature) -> bytes:
    with signature.pdf.open("rb") as f:
        data: bytes = f.read()
    return data


def _note_pdf(note: InfusionNote) -> bytes:
    from neuroclinic.infusions.pdf import note_pdf

    return note_pdf(note)


DOCUMENT_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind(
        "letter",
        Capability.WRITE_LETTERS,
        _letter_qs,
        rows.letter_documents,
        lambda d: d.patient,
        _letter_pdf,
    ),
    DocumentKind(
        "consent",
        Capability.VIEW_CONSENTS,
        _signed_consent_qs,
        rows.consent_documents,
        lambda c: c.patient,
        _consent_pdf,
    ),
    DocumentKind(
        "infusion-note",
        Capability.VIEW_INFUSIONS,
        _note_qs,
        rows.note_documents,
        lambda n: n.session.patient,
        _note_pdf,
        lookup="session__uuid",
    ),
)


def _document_kinds(user: User) -> list[DocumentKind]:
    """The kinds of document this user's role reads in the app (letters: those who
    write them; consents; infusion notes)."""
    return [k for k in DOCUMENT_KINDS if user.can(k.capability)]


def _document_type_kinds(params: Params) -> set[str] | None:
    """The kinds `type` and `category` leave in the search (None: every kind)."""
    kept: set[str] | None = None
    for name, value in params:
        if name == "category":
            wanted = {
                t.code
                for t in parse_token(name, value)
                if t.system in (None, documents.DOCUMENT_CATEGORY)
            }
            found = set(documents.KINDS) if documents.CLINICAL_NOTE in wanted else set()
        elif name == "type":
            found = set()
            for t in parse_token(name, value):
                for kind, doc_type in documents.KINDS.items():
                    if t.system in (None, documents.DOCUMENT_KINDS) and t.code == kind:
                        found.add(kind)
                    if t.system in (None, codes.LOINC) and t.code == doc_type.code:
                        found.add(kind)
                if t.system in (None, codes.LOINC) and t.code in {
                    d.code for d in documents.LETTER_TYPES.values()
                }:
                    found.add("letter")
                if t.system in (None, documents.LETTER_KINDS):
                    found.add("letter")
        else:
            continue
        kept = found if kept is None else kept & found
    return kept


def _letter_type_q(params: Params) -> Q:
    """A `type` naming a letter's own kind or a precise LOINC type narrows letters."""
    q = Q()
    for name, value in params:
        if name != "type":
            continue
        one = Q(pk__in=[])
        for t in parse_token(name, value):
            if t.system in (None, documents.LETTER_KINDS):
                one |= Q(template__kind=t.code)
            if t.system in (None, codes.LOINC):
                precise = [
                    k for k, d in documents.LETTER_TYPES.items() if d.code == t.code
                ]
                if t.code == documents.LETTER.code:
                    one |= ~Q(template__kind__in=list(documents.LETTER_TYPES))
                one |= Q(template__kind__in=precise)
            if t.system in (None, documents.DOCUMENT_KINDS) and t.code == "letter":
                one = Q()
                break
        q &= one
    return q


def _search_documents(user: User, params: Params) -> list[Source]:
    kept = _document_type_kinds(params)
    ids = _uuid_ids(params)
    sources: list[Source] = []
    for kind in _document_kinds(user):
        if kept is not None and kind.name not in kept:
            continue
        qs = _common(
            kind.queryset(user),
            params,
            patient_field=_patient_field(kind),
            date_field=None,
        )
        if ids is not None:
            qs = qs.filter(**{f"{kind.lookup}__in": ids})
        for name, value in params:
            if name == "date":
                qs = qs.filter(_date_q("signed_at", parse_date(name, value)))
            elif name == "_lastUpdated":
                qs = qs.filter(_date_q("last_change", parse_date(name, value)))
        if kind.name == "letter":
            qs = qs.filter(_letter_type_q(params))
        sources.append(_Batched(qs, kind.expand, kind.patient_of))
    if not sources:  # nothing of the kinds asked for: an empty search, not an error
        sources.append(
            _Batched(_letter_qs(user).none(), rows.letter_documents, lambda d: d)
        )
    return sources


def _patient_field(kind: DocumentKind) -> str:
    return "session__patient" if kind.lookup == "session__uuid" else "patient"


def document_row(user: User, raw: str) -> tuple[DocumentKind, Any]:
    """The signed document with this FHIR id that the user may read, else 404
    (another clinic's, a draft, a kind the role does not read, or none at all)."""
    wanted = _uuid_or_404(raw)
    for kind in _document_kinds(user):
        row = kind.queryset(user).filter(**{kind.lookup: wanted}).first()
        if row is not None:
            return kind, row
    raise FhirError(404, "No such resource.")


def document_pdf(user: User, raw: str) -> tuple[Patient, UUID, bytes]:
    """The PDF of a signed document: its patient, its id and its bytes."""
    kind, row = document_row(user, raw)
    return kind.patient_of(row), UUID(raw), kind.pdf(row)


def _read_document(user: User, raw: str) -> tuple[Patient, Resource]:
    """One document, with its PDF's size and SHA-1 (the one PDF is made or opened)."""
    kind, row = document_row(user, raw)
    pdfs = {UUID(raw): kind.pdf(row)}
    return kind.patient_of(row), kind.expand([row], pdfs)[0]


def _document_history(user: User, raw: str) -> tuple[Patient, list[Resource]]:
    """A signed document never changes, but an addendum adds to it (and to its PDF)
    without the earlier state being kept: one version, the current one. As in a
    search, the PDF is not made here (its size and hash are on the plain read)."""
    kind, row = document_row(user, raw)
    resource = kind.expand([row])[0]
    patient = kind.patient_of(row)
    resource["meta"]["versionId"] = "1"
    return patient, [resource]


# Appointment, Schedule and Slot (the calendar) ------------------------------------


def _appointment_qs(user: User) -> QuerySet[Appointment]:
    """Visits with their last change: the newest status change, else the booking."""
    latest = (
        AppointmentStatusChange.objects.filter(appointment=OuterRef("pk"))
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    changes = (
        AppointmentStatusChange.objects.filter(appointment=OuterRef("pk"))
        .order_by()
        .values("appointment")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Appointment.objects.filter(patient__in=_visible(user))
        .annotate(
            last_change=Coalesce(Subquery(latest), F("created_at")),
            changes=Subquery(changes),
        )
        .select_related(
            "patient", "appointment_type", "location", "staff", "infusion_session"
        )
        .order_by("starts_at", "id")
    )


def _statuses(params: Params, name: str, table: dict[str, list[str]]) -> Q | None:
    """`status=<fhir>,<fhir>` as a filter on our own statuses, None if not given."""
    q: Q | None = None
    for n, value in params:
        if n == name:
            ours = [s for t in parse_token(n, value) for s in table.get(t.code, [])]
            q = Q(status__in=ours) if q is None else q & Q(status__in=ours)
    return q


def _search_appointments(user: User, params: Params) -> list[Source]:
    qs = _common(
        _appointment_qs(user), params, patient_field="patient", date_field=None
    )
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "date":
            qs = qs.filter(_date_q("starts_at", parse_date(name, value)))
        elif name == "_lastUpdated":
            qs = qs.filter(_date_q("last_change", parse_date(name, value)))
        elif name == "practitioner":
            qs = qs.filter(
                staff__uuid__in=parse_references(name, value, "Practitioner")
            )
    if (
        q := _statuses(params, "status", scheduling.APPOINTMENT_STATUS_SEARCH)
    ) is not None:
        qs = qs.filter(q)
    return [_Batched(qs, rows.appointments, lambda a: a.patient)]


def _read_appointment(user: User, raw: str) -> tuple[Patient, Resource]:
    a = _get(_appointment_qs(user), uuid=_uuid_or_404(raw))
    return a.patient, rows.appointments([a])[0]


def _appointment_history(user: User, raw: str) -> tuple[Patient, list[Resource]]:
    a = _get(_appointment_qs(user), uuid=_uuid_or_404(raw))
    changes = list(a.history.order_by("at", "id"))
    return a.patient, rows.appointment_versions(a, changes)


def _shift_qs(user: User) -> QuerySet[StaffShift]:
    return (
        StaffShift.objects.filter(_own_clinic(user))
        .select_related("user", "location")
        .order_by("starts_at", "id")
    )


def _search_schedules(user: User, params: Params) -> list[Source]:
    qs = _shift_qs(user)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "date":
            qs = qs.filter(_span_q(parse_date(name, value)))
        elif name == "actor":
            kind = "Location" if value.startswith("Location/") else "Practitioner"
            ref = parse_reference(name, value, kind)
            qs = qs.filter(Q(user__uuid=ref) | Q(location__uuid=ref))
        elif name == "active" and value not in ("true", "false"):
            raise FhirError(400, "active: true or false.")
        elif name == "active" and value == "false":
            qs = qs.none()  # every shift on the calendar is in force
    return [_Batched(qs, rows.schedules, lambda s: None)]


def _read_schedule(user: User, raw: str) -> tuple[None, Resource]:
    s = _get(_shift_qs(user), uuid=_uuid_or_404(raw))
    return None, rows.schedules([s])[0]


def _span_q(found: DateRange) -> Q:
    """Shifts whose time (start to end) meets the range, for Schedule `date` and Slot
    `start`; the slots themselves are then tested one by one (`_slot_wanted`)."""
    lo, hi = found.start, found.end
    match found.prefix:
        case "eq":
            return Q(starts_at__lt=hi, ends_at__gt=lo)
        case "lt":
            return Q(starts_at__lt=lo)
        case "le":
            return Q(starts_at__lt=hi)
        case "gt":
            return Q(ends_at__gt=hi)
        case "ge":
            return Q(ends_at__gt=lo)
        case _:  # ne: any shift may hold a slot outside the range
            return Q()


def _instant_in(moment: str, found: DateRange) -> bool:
    at = parse_date("start", moment).start
    lo, hi = found.start, found.end
    match found.prefix:
        case "eq":
            return lo <= at < hi
        case "ne":
            return not lo <= at < hi
        case "lt":
            return at < lo
        case "le":
            return at < hi
        case "gt":
            return at >= hi
        case _:  # ge
            return at >= lo


class _Derived(Source):
    """Rows that each yield a varying number of resources, perhaps none once filtered
    (a shift's slots): a page reads rows until it is full, and the count expands
    every row (a clinic's shifts: hundreds, not millions)."""

    def expand_each(self, found: Sequence[Any]) -> list[list[Resource]]:
        raise NotImplementedError

    def expand_rows(self, found: Sequence[Any]) -> list[list[Resource]]:
        return self.expand_each(found)

    def sizes(self, found: Sequence[Any]) -> list[int]:
        return [len(resources) for resources in self.expand_each(found)]

    def count(self) -> int:
        return sum(
            len(resources)
            for batch in self.batches(500)
            for resources in self.expand_each(batch)
        )

    def after(
        self, position: Position, limit: int
    ) -> list[tuple[Key, int, Patient | None, Resource]]:
        out: list[tuple[Key, int, Patient | None, Resource]] = []
        at = position
        while len(out) < limit:
            qs = self.queryset
            if at.key is not None:
                qs = qs.filter(_from_key(self.order_fields(), at.key))
            found = list(qs[:limit])
            for row, resources in zip(found, self.expand_each(found), strict=True):
                key = self.key_of(row, 0)
                skip = at.skip if key == at.key else 0
                patient = self.patient_of(row)
                out.extend(
                    (key, j, patient, r) for j, r in enumerate(resources) if j >= skip
                )
            if len(found) < limit:
                break
            # On from the row after the last one read (all of its resources skipped).
            at = Position(at.source, self.key_of(found[-1], 0), _PAST_THE_ROW)
        return out[:limit]


_PAST_THE_ROW = 1 << 30


@dataclass
class _SlotSource(_Derived):
    """Shifts, each cut into Slots, keeping the Slots the search asks for."""

    ids: set[str] | None = None
    status: set[str] | None = None
    starts: list[DateRange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.expand = self._flat

    def _flat(self, found: Sequence[Any]) -> list[Resource]:
        return [r for resources in self.expand_each(found) for r in resources]

    def expand_each(self, found: Sequence[Any]) -> list[list[Resource]]:
        return [
            [r for r in slots if self._wanted(r)] for slots in rows.shift_slots(found)
        ]

    def _wanted(self, slot: Resource) -> bool:
        if self.ids is not None and slot["id"] not in self.ids:
            return False
        if self.status is not None and slot["status"] not in self.status:
            return False
        return all(_instant_in(slot["start"], d) for d in self.starts)


def _search_slots(user: User, params: Params) -> list[Source]:
    qs = _shift_qs(user)
    status: set[str] | None = None
    starts: list[DateRange] = []
    ids = _ids(params)
    if ids is not None:
        shifts = [parse_uuid("_id", i.rpartition("-")[0] or i) for i in ids]
        qs = qs.filter(uuid__in=[u for u in shifts if u is not None])
    for name, value in params:
        if name == "schedule":
            qs = qs.filter(uuid__in=parse_references(name, value, "Schedule"))
        elif name == "status":
            wanted = {t.code for t in parse_token(name, value)}
            status = wanted if status is None else status & wanted
        elif name == "start":
            found = parse_date(name, value)
            starts.append(found)
            qs = qs.filter(_span_q(found))
    return [
        _SlotSource(
            qs,
            lambda found: [],  # replaced by the source's own (__post_init__)
            lambda s: None,
            ids=set(ids) if ids is not None else None,
            status=status,
            starts=starts,
        )
    ]


def _read_slot(user: User, raw: str) -> tuple[None, Resource]:
    shift_part, _, seconds = raw.rpartition("-")
    shift_uuid = parse_uuid("id", shift_part)
    if shift_uuid is None or not seconds.isdigit():
        raise FhirError(404, "No such resource.")
    s = _get(_shift_qs(user), uuid=shift_uuid)
    for slot in rows.shift_slots([s])[0]:
        if slot["id"] == raw:
            return None, slot
    raise FhirError(404, "No such resource (the shift's free and busy times changed).")


# Procedure (TMS sessions) -----------------------------------------------------------


def _procedure_qs(user: User) -> QuerySet[TmsSession]:
    return (
        TmsSession.objects.filter(patient__in=_visible(user))
        .annotate(last_change=Coalesce(F("ended_at"), F("started_at")))
        .select_related(
            "patient", "course__location", "operator", "supervising_physician"
        )
        .order_by("started_at", "id")
    )


def _search_procedures(user: User, params: Params) -> list[Source]:
    qs = _common(_procedure_qs(user), params, patient_field="patient", date_field=None)
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "date":
            qs = qs.filter(_date_q("started_at", parse_date(name, value)))
        elif name == "_lastUpdated":
            qs = qs.filter(_date_q("last_change", parse_date(name, value)))
        elif name == "code":
            q = Q()
            for t in parse_token(name, value):
                if t.system in (None, scheduling.CPT):
                    q |= Q(cpt_code=t.code)
            qs = qs.filter(q) if q else qs.none()
    wanted = _statuses(params, "status", scheduling.PROCEDURE_STATUS_SEARCH)
    if wanted is not None:
        qs = qs.filter(wanted)
    return [_Batched(qs, rows.procedures, lambda t: t.patient)]


def _read_procedure(user: User, raw: str) -> tuple[Patient, Resource]:
    t = _get(_procedure_qs(user), uuid=_uuid_or_404(raw))
    return t.patient, rows.procedures([t])[0]


def _procedure_history(user: User, raw: str) -> tuple[Patient, list[Resource]]:
    """A session that has ended never changes again (the database refuses it):
    one version. A running one changes (intensity, pulses, its end) without its
    versions being kept, so it has no history yet: a 404 that says so."""
    t = _get(_procedure_qs(user), uuid=_uuid_or_404(raw))
    if t.status == TmsSession.Status.IN_PROGRESS:
        raise FhirError(
            404,
            "A running TMS session changes without its versions being kept; its"
            " history (one version) is served once the session has ended.",
            code="not-supported",
        )
    resource = rows.procedures([t])[0]
    resource["meta"]["versionId"] = "1"
    return t.patient, [resource]


# AdverseEvent (TMS adverse-event reports) ------------------------------------------


def _adverse_event_qs(user: User) -> QuerySet[AdverseEvent]:
    """Reports with what the mapper reads, and their last change: the later of the
    filing and the review (neither row ever changes)."""
    return (
        AdverseEvent.objects.filter(patient__in=_visible(user))
        .annotate(
            last_change=Greatest(
                F("recorded_at"),
                Coalesce(F("review__reviewed_at"), F("recorded_at")),
            )
        )
        .select_related(
            "patient",
            "course__location",
            "session",
            "recorded_by",
            "review__reviewed_by",
        )
        .order_by("onset_at", "id")
    )


def _search_adverse_events(user: User, params: Params) -> list[Source]:
    qs = _common(
        _adverse_event_qs(user), params, patient_field="patient", date_field=None
    )
    if (ids := _uuid_ids(params)) is not None:
        qs = qs.filter(uuid__in=ids)
    for name, value in params:
        if name == "date":
            qs = qs.filter(_date_q("onset_at", parse_date(name, value)))
        elif name == "_lastUpdated":
            qs = qs.filter(_date_q("last_change", parse_date(name, value)))
        elif name == "severity":
            wanted = [
                t.code
                for t in parse_token(name, value)
                if t.system in (None, adverse_events.SEVERITY)
            ]
            qs = qs.filter(severity__in=wanted)
        elif name == "seriousness":
            serious = {
                adverse_events.SERIOUS_CODES[t.code]
                for t in parse_token(name, value)
                if t.system in (None, adverse_events.SERIOUSNESS)
                and t.code in adverse_events.SERIOUS_CODES
            }
            qs = qs.filter(serious__in=serious)
        elif name == "event":
            kinds = [
                t.code
                for t in parse_token(name, value)
                if t.system in (None, adverse_events.EVENT_KINDS)
            ]
            qs = qs.filter(kind__in=kinds)
        elif name == "actuality":
            if "actual" not in {t.code for t in parse_token(name, value)}:
                qs = qs.none()  # every report is of an event that happened
        elif name == "substance":
            qs = qs.filter(session__uuid__in=parse_references(name, value, "Procedure"))
        elif name == "recorder":
            qs = qs.filter(
                recorded_by__uuid__in=parse_references(name, value, "Practitioner")
            )
    return [_Batched(qs, rows.adverse_events, lambda e: e.patient)]


def _read_adverse_event(user: User, raw: str) -> tuple[Patient, Resource]:
    e = _get(_adverse_event_qs(user), uuid=_uuid_or_404(raw))
    return e.patient, rows.adverse_events([e])[0]


def _adverse_event_history(user: User, raw: str) -> tuple[Patient, list[Resource]]:
    """Version 1 the report as filed; version 2, once a physician has signed a
    review, the report with the review's causality and outcome. Both rows are
    append-only, so both versions are rebuilt from them."""
    e = _get(_adverse_event_qs(user), uuid=_uuid_or_404(raw))
    versions = rows.adverse_events([e], as_filed=True)
    current = rows.adverse_events([e])[0]
    if current["meta"]["versionId"] == "2":  # reviewed
        versions.append(current)
    return e.patient, versions


# History ---------------------------------------------------------------------------


def _one_version(
    read: Callable[[User, str], tuple[Any, Resource]],
) -> Callable[[User, str], tuple[Patient | None, list[Resource]]]:
    """The history of a record that never changes once written (a response, a
    reading, a ledger entry, a signature, a signed letter): one version."""

    def history(user: User, raw: str) -> tuple[Patient | None, list[Resource]]:
        patient, resource = read(user, raw)
        meta = resource.setdefault("meta", {})
        meta["versionId"] = "1"
        return patient, [resource]

    return history


def _list_versions(
    qs: Callable[[User], QuerySet[Any]],
    render: Callable[..., list[Resource]],
) -> Callable[[User, str], tuple[Patient | None, list[Resource]]]:
    """A chart list entry (diagnosis, allergy, medication): recorded, then perhaps
    ended (resolved, stopped or entered in error); both versions are the row's own."""

    def history(user: User, raw: str) -> tuple[Patient | None, list[Resource]]:
        row = _get(qs(user), uuid=_uuid_or_404(raw))
        versions = render([row], as_recorded=True)
        if row.ended_at is not None:
            versions += render([row])
        return row.patient, versions

    return history


# The table -------------------------------------------------------------------------

_DATE = "Prefixes eq, ne, lt, le, gt, ge; precision year, month, day or instant."

RESOURCE_TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in (
        ResourceType(
            "Patient",
            Capability.VIEW_PATIENT_LIST,
            (
                _ID_PARAM,
                SearchParam(
                    "identifier",
                    "token",
                    f"The MRN ({MRN_SYSTEM}|<mrn>) or another system's identifier"
                    " kept from an import (<system>|<value>).",
                ),
                SearchParam(
                    "name",
                    "string",
                    "Every word starts a family, given or preferred name.",
                ),
                SearchParam("family", "string", "Family name starts with."),
                SearchParam("given", "string", "Given or preferred name starts with."),
                SearchParam("birthdate", "date", _DATE),
                SearchParam("gender", "token", "female, male, other, unknown."),
                _LAST_UPDATED,
            ),
            _search_patients,
            _read_patient,
            profiles=(PATIENT_PROFILE,),
        ),
        ResourceType(
            "Condition",
            Capability.VIEW_CHART,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam("code", "token", f"ICD-10-CM ({ICD10_CM})."),
                SearchParam("clinical-status", "token", "active or resolved."),
                SearchParam("recorded-date", "date", _DATE),
            ),
            _search_conditions,
            _read_condition,
            history=_list_versions(_condition_qs, rows.conditions),
            versioned=True,
            profiles=(CONDITION_PROFILE,),
        ),
        ResourceType(
            "Observation",
            Capability.VIEW_CHART,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam(
                    "category", "token", "survey (questionnaire totals) or vital-signs."
                ),
                SearchParam(
                    "code",
                    "token",
                    "LOINC total or vital-sign code, or a local score code.",
                ),
                SearchParam("date", "date", _DATE),
                SearchParam(
                    "_lastUpdated",
                    "date",
                    "When the record was stored (a reading received, a response"
                    " recorded, an observation imported). " + _DATE,
                ),
            ),
            _search_observations,
            _read_observation,
            history=_one_version(_read_observation),
            documentation=(
                "Three sources, told apart by the id: a scored questionnaire"
                " response's total (survey; the response's id), a charted vital-sign"
                " reading (vital-signs; <session>-<reading>-<kind>), and an imported"
                " vital sign or outside questionnaire total (imported-<id>). Each"
                " never changes once stored: one version."
            ),
            profiles=tuple(
                f"{US_CORE}/{p}"
                for p in (
                    *VITAL_KINDS.values(),
                    # Imported weights, heights and temperatures (interop 0003).
                    "us-core-body-weight",
                    "us-core-body-height",
                    "us-core-body-temperature",
                )
            ),
        ),
        ResourceType(
            "QuestionnaireResponse",
            Capability.VIEW_CHART,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam(
                    "questionnaire", "reference", "The Questionnaire's canonical url."
                ),
                SearchParam("authored", "date", _DATE),
            ),
            _search_responses,
            _read_response,
            history=_one_version(_read_response),
        ),
        ResourceType(
            "Questionnaire",
            None,
            (
                _ID_PARAM,
                SearchParam("url", "uri", "Canonical url (a |version is ignored)."),
            ),
            _search_questionnaires,
            _read_questionnaire,
            patient_data=False,
        ),
        ResourceType(
            "Encounter",
            Capability.VIEW_INFUSIONS,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam("date", "date", _DATE),
                SearchParam(
                    "status", "token", "arrived, in-progress, finished, cancelled."
                ),
            ),
            _search_encounters,
            _read_encounter,
        ),
        ResourceType(
            "MedicationAdministration",
            Capability.VIEW_INFUSIONS,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam("code", "token", f"RxNorm ({KETAMINE.system}|6130)."),
                SearchParam(
                    "context", "reference", "The Encounter (infusion session)."
                ),
                SearchParam("effective-time", "date", _DATE),
            ),
            _search_administrations,
            _read_administration,
            history=_one_version(_read_administration),
        ),
        ResourceType(
            "Consent",
            Capability.VIEW_CONSENTS,
            (_ID_PARAM, _PATIENT_PARAM, SearchParam("date", "date", _DATE)),
            _search_consents,
            _read_consent,
            history=_one_version(_read_consent),
        ),
        ResourceType(
            "AllergyIntolerance",
            Capability.VIEW_CHART,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                SearchParam("clinical-status", "token", "active or resolved."),
            ),
            _search_allergies,
            _read_allergy,
            history=_list_versions(_allergy_qs, rows.allergies),
            versioned=True,
        ),
        ResourceType(
            "MedicationStatement",
            Capability.VIEW_CHART,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam(
                    "status", "token", "active, completed or entered-in-error."
                ),
            ),
            _search_medication_statements,
            _read_medication_statement,
            history=_list_versions(_medication_qs, rows.medication_statements),
            versioned=True,
        ),
        ResourceType(
            "DocumentReference",
            None,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam(
                    "category",
                    "token",
                    f"clinical-note ({documents.DOCUMENT_CATEGORY}).",
                ),
                SearchParam(
                    "type",
                    "token",
                    "LOINC 51852-2 letter, 11488-4 consult note, 59284-0 consent,"
                    " 34746-8 nurse note; or letter, consent, infusion-note"
                    f" ({documents.DOCUMENT_KINDS}); or a letter kind"
                    f" ({documents.LETTER_KINDS}).",
                ),
                SearchParam("date", "date", f"The signature. {_DATE}"),
                SearchParam(
                    "_lastUpdated", "date", "The newest addendum or co-signature."
                ),
            ),
            _search_documents,
            _read_document,
            history=_document_history,
            any_of=tuple(k.capability for k in DOCUMENT_KINDS),
            documentation=(
                "Signed letters (write_letters), signed consents (view_consents) and"
                " signed infusion notes (view_infusions); each kind only for the roles"
                " that read it in the app; drafts never. The PDF is at"
                " content.attachment.url (Binary/<id>); its size and SHA-1 hash are"
                " given on read only (a search or export does not render PDFs)."
            ),
        ),
        ResourceType(
            "Appointment",
            Capability.VIEW_SCHEDULE,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                SearchParam("date", "date", f"The visit's start. {_DATE}"),
                SearchParam(
                    "status",
                    "token",
                    "booked, checked-in, cancelled (late cancels too) or noshow.",
                ),
                SearchParam("practitioner", "reference", "The staff member."),
                _LAST_UPDATED,
            ),
            _search_appointments,
            _read_appointment,
            history=_appointment_history,
            versioned=True,
            documentation=(
                "History: one version per status change (booked, confirmed, moved,"
                " checked in, cancelled, no-show), kept by the calendar's append-only"
                " status history; each earlier version's time is walked back through"
                " the moves after it. A move recorded before moves kept the staff"
                " member leaves the practitioner out of the versions before it."
            ),
        ),
        ResourceType(
            "Procedure",
            Capability.VIEW_TMS,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam("date", "date", f"The session's start. {_DATE}"),
                SearchParam(
                    "status",
                    "token",
                    "in-progress, completed or stopped (ended early or seizure).",
                ),
                SearchParam("code", "token", f"CPT ({scheduling.CPT}|90867)."),
                _LAST_UPDATED,
            ),
            _search_procedures,
            _read_procedure,
            history=_procedure_history,
            documentation=(
                "History: a TMS session that has ended never changes and has one"
                " version. A running session changes (intensity, pulses, its end)"
                " without its versions being kept: no history (404) until it ends."
            ),
        ),
        ResourceType(
            "AdverseEvent",
            Capability.VIEW_TMS,
            (
                _ID_PARAM,
                _PATIENT_PARAM,
                _SUBJECT_PARAM,
                SearchParam("date", "date", f"The onset. {_DATE}"),
                SearchParam(
                    "seriousness",
                    "token",
                    f"Serious or Non-serious ({adverse_events.SERIOUSNESS}).",
                ),
                SearchParam(
                    "severity",
                    "token",
                    f"mild, moderate or severe ({adverse_events.SEVERITY}).",
                ),
                SearchParam(
                    "event",
                    "token",
                    "The kind: seizure, syncope, severe_headache, scalp_burn,"
                    " hearing_change, manic_switch, other"
                    f" ({adverse_events.EVENT_KINDS}).",
                ),
                SearchParam("actuality", "token", "actual (every report is)."),
                SearchParam(
                    "substance",
                    "reference",
                    "The suspected TMS session (Procedure/<id>).",
                ),
                SearchParam("recorder", "reference", "Who filed it (Practitioner)."),
                SearchParam(
                    "_lastUpdated",
                    "date",
                    f"The filing, or the physician's review if later. {_DATE}",
                ),
            ),
            _search_adverse_events,
            _read_adverse_event,
            history=_adverse_event_history,
            versioned=True,
            documentation=(
                "TMS adverse-event reports, for the roles that read TMS records"
                " (view_tms). History: version 1 the report as filed; version 2,"
                " once a physician has signed a review, the report with the"
                " review's causality (suspectEntity.causality, author the"
                " reviewer) and its outcome. Both records are append-only; nothing"
                " else changes. R4 AdverseEvent has no note: the report's"
                " description is in event.text, the review's note in"
                " causality.assessment.text."
            ),
        ),
        ResourceType(
            "Schedule",
            Capability.VIEW_SCHEDULE,
            (
                _ID_PARAM,
                SearchParam(
                    "actor", "reference", "Practitioner/<id> or Location/<id>."
                ),
                SearchParam("date", "date", f"Shifts meeting the range. {_DATE}"),
                SearchParam("active", "token", "true (every shift is)."),
            ),
            _search_schedules,
            _read_schedule,
            patient_data=False,
        ),
        ResourceType(
            "Slot",
            Capability.VIEW_SCHEDULE,
            (
                _ID_PARAM,
                SearchParam("schedule", "reference", "The Schedule (a staff shift)."),
                SearchParam("status", "token", "free or busy."),
                SearchParam("start", "date", _DATE),
            ),
            _search_slots,
            _read_slot,
            patient_data=False,
        ),
        ResourceType(
            "Organization",
            None,
            (_ID_PARAM, SearchParam("name", "string", "Name contains.")),
            _search_organizations,
            _read_organization,
            patient_data=False,
        ),
        ResourceType(
            "Location",
            None,
            (
                _ID_PARAM,
                SearchParam("name", "string", "Name contains."),
                SearchParam("organization", "reference", "The Organization."),
            ),
            _search_locations,
            _read_location,
            patient_data=False,
        ),
        ResourceType(
            "Practitioner",
            None,
            (
                _ID_PARAM,
                SearchParam("name", "string", "Given or family name contains."),
            ),
            _search_practitioners,
            _read_practitioner,
            patient_data=False,
        ),
        ResourceType(
            "PractitionerRole",
            None,
            (
                _ID_PARAM,
                SearchParam("practitioner", "reference", "The Practitioner."),
                SearchParam("organization", "reference", "The Organization."),
            ),
            _search_practitioner_roles,
            _read_practitioner_role,
            patient_data=False,
        ),
    )
}
