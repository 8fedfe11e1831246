"""Bulk export lines rendered from value tuples, byte for byte what a read answers.

An export writes millions of QuestionnaireResponses and score Observations that
differ, most of them, only in their ids, patient, times and numbers. Rendering each
through the mappers (dicts, references, codings) and serialising it was most of the
export's CPU. Here each distinct shape is rendered once, through the source's own
`expand` (the one mapping, shared with reads), from a row with sentinel values in the
places that vary; the serialised line is cut at the sentinels into a template, and
each row's line is that template with the row's own values put in.

A shape is used only if a second rendering, with other sentinels (another time zone,
microseconds, other answers where they must not matter), equals the template filled
with those sentinels: output that depends on a varying value in any other way than
by printing it is caught here, not in a file. A row that fits no template (answers
that are not options, a score that must be recomputed, an unknown instrument) goes
through `expand` as before, which renders it or raises the error a read would.
"""

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson

from neuroclinic.interop.fhir.questionnaires import _fhir_datetime
from neuroclinic.interop.server.http import dumps
from neuroclinic.measures.instruments import INSTRUMENTS

Values = tuple[Any, ...]
Lines = Callable[[Sequence[Values]], list[bytes]]

# Two sets of sentinels: the template is cut at the first and checked with the second.
_UUIDS = (
    [UUID(f"5e471ae1-0000-4000-8000-{n:012x}") for n in range(16)],
    [UUID(f"5e471ae2-0000-4000-8000-{n:012x}") for n in range(16)],
)
_WHEN = (
    [datetime(1901, 2, 3, 4, 5, n, tzinfo=UTC) for n in range(16)],
    [
        datetime(1902, 3, 4, 5, 6, n, 123400, tzinfo=timezone(timedelta(hours=2)))
        for n in range(16)
    ],
)
_INTS = ([918_273_600 + n for n in range(64)], [827_364_500 + n for n in range(64)])
_SHAPES = 4096  # templates kept per export and type; past that, rows render slowly


def _uuid_text(value: UUID) -> bytes:
    return str(value).encode()


def _when_text(value: datetime) -> bytes:
    return _fhir_datetime(value, name="value").encode()


# How each kind of varying value is printed in a line.
_TEXT: dict[str, Callable[[Any], bytes]] = {
    "uuid": _uuid_text,
    "when": _when_text,
    "int": orjson.dumps,
}
_SENTINELS: dict[str, tuple[list[Any], list[Any]]] = {
    "uuid": _UUIDS,
    "when": _WHEN,
    "int": _INTS,
}

Hole = tuple[int, Callable[[Any], bytes]]  # where in the row, how it is printed


class Template:
    """A rendered line cut at its holes: `fill(row)` prints the row's values back
    into them."""

    __slots__ = ("first", "rest")

    def __init__(self, rendered: bytes, marks: dict[bytes, Hole]) -> None:
        pattern = re.compile(
            b"("
            + b"|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True))
            + b")"
        )
        pieces = pattern.split(rendered)
        self.first = pieces[0]
        self.rest = [
            (marks[mark], part)
            for mark, part in zip(pieces[1::2], pieces[2::2], strict=True)
        ]

    def fill(self, row: Sequence[Any]) -> bytes:
        out = [self.first]
        for (at, text), part in self.rest:
            out.append(text(row[at]))
            out.append(part)
        return b"".join(out)


class _Shapes:
    """Templates of one type's lines, keyed by a row's shape.

    `columns` is the tuple's layout ("pk" first, then the reader's columns);
    `build` turns a tuple into the row `expand` takes. Subclasses say which columns
    vary (`holes`) and what else a row's shape is."""

    holes: dict[str, str] = {}  # column -> "uuid" | "when" | "int"

    def __init__(
        self,
        columns: Sequence[str],
        build: Callable[[Values], Any],
        expand: Callable[[Sequence[Any]], list[dict[str, Any]]],
    ) -> None:
        self.at = {c: n for n, c in enumerate(columns)}
        self.build = build
        self.expand = expand
        self.templates: dict[tuple[Any, ...], Template | None] = {}
        self.fallbacks = 0  # rows rendered through `expand`, for tests and profiles
        self.hole_at = [
            (self.at[c], kind) for c, kind in self.holes.items() if c in self.at
        ]

    def slow(self, row: Sequence[Any]) -> bytes:
        return dumps(self.expand([self.build(tuple(row))])[0])

    def sentinel_row(
        self, row: Sequence[Any], which: int, extra: Sequence[str] = ()
    ) -> tuple[list[Any], dict[bytes, Hole]]:
        """`row` with its holes (and `extra` more values of those kinds, appended)
        replaced by sentinel set `which`, and each sentinel's text -> its hole."""
        out = list(row)
        marks: dict[bytes, Hole] = {}
        used = dict.fromkeys(_SENTINELS, 0)
        kinds = [*self.hole_at, *((len(row) + n, k) for n, k in enumerate(extra))]
        out.extend(None for _ in extra)
        for at, kind in kinds:
            if out[at] is None and at < len(row):
                continue  # an empty hole is part of the shape
            value = _SENTINELS[kind][which][used[kind]]
            used[kind] += 1
            out[at] = value
            marks[_TEXT[kind](value)] = (at, _TEXT[kind])
        return out, marks

    def checked(
        self, first: bytes, second: bytes, marks: dict[bytes, Hole], row: list[Any]
    ) -> Template | None:
        """The template cut from `first`, if filling it with the second sentinels
        (`row`) gives `second`, their rendering."""
        if not marks:
            return None
        template = Template(first, marks)
        return template if template.fill(row) == second else None

    def render(self, rows: Sequence[Values]) -> list[bytes]:
        raise NotImplementedError


_RESPONSE_HOLES = {
    "pk": "int",
    "patient__id": "int",
    "uuid": "uuid",
    "patient__uuid": "uuid",
    "entered_by__uuid": "uuid",
    "completed_at": "when",
    "amends_id": "int",
}


class Responses(_Shapes):
    """QuestionnaireResponse lines. A shape is the row's other columns (instrument,
    channel, which holes are empty); the answered items, the line's last member,
    are cut off the template, and each item's text (per instrument, item and
    answer) is kept and joined per row."""

    holes = _RESPONSE_HOLES
    _KEYS = ("instrument_code", "instrument_version", "sex_for_scoring", "source")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.answers_at = self.at["answers"]
        self.code_at = self.at["instrument_code"]
        self.key_at = [self.at[c] for c in self._KEYS]
        self.empty_at = [at for at, _ in self.hole_at]
        self.items: dict[tuple[str, str, Any], bytes | None] = {}
        self.links = {
            code: (
                frozenset(i.link_id for i in instrument.items),
                [i.link_id for i in instrument.items],
            )
            for code, instrument in INSTRUMENTS.items()
        }

    def _line(self, row: Sequence[Any], answers: dict[str, Any]) -> bytes:
        out = list(row)
        out[self.answers_at] = answers
        return self.slow(out)

    def item(self, row: Values, link_id: str, value: Any) -> bytes | None:
        """One answered item's text: the line with that one answer, less the line
        with none."""
        key = (row[self.code_at], link_id, value)
        if key not in self.items:
            try:
                head = self._line(row, {})[:-1] + b',"item":['
                line = self._line(row, {link_id: value})
            except ValueError:
                self.items[key] = None
            else:
                ok = line.startswith(head) and line.endswith(b"]}")
                self.items[key] = line[len(head) : -2] if ok else None
        return self.items[key]

    def template(self, row: Values) -> Template | None:
        """The shape's line without its items (and without the closing brace)."""
        first, marks = self.sentinel_row(row, 0)
        second, _ = self.sentinel_row(row, 1)
        try:
            empty = (self._line(first, {}), self._line(second, {}))
        except ValueError:
            return None
        if not (empty[0].endswith(b"}") and empty[1].endswith(b"}")):
            return None
        template = self.checked(empty[0][:-1], empty[1][:-1], marks, second)
        instrument = INSTRUMENTS[row[self.code_at]]
        picks = {i.link_id: i.options[0].value for i in instrument.items[:2]}
        fragments = [self.item(row, k, v) for k, v in picks.items()]
        if template is None or any(f is None for f in fragments):
            return None
        joined = b",".join(f for f in fragments if f is not None)
        expected = template.fill(second) + b',"item":[' + joined + b"]}"
        return template if expected == self._line(second, picks) else None

    def fragments(self, row: Values) -> list[bytes] | None:
        """The row's answered items' texts, in the instrument's order, or None when
        an answer is not one the items' texts are kept for."""
        code = row[self.code_at]
        answers = row[self.answers_at]
        links = self.links.get(code)
        if links is None or not isinstance(answers, dict):
            return None
        if not links[0].issuperset(answers):
            return None
        out = []
        kept = self.items
        for link_id in links[1]:
            value = answers.get(link_id)
            if value is None:
                continue
            if type(value) is not int:
                return None
            found = kept.get((code, link_id, value))
            if found is None:
                found = self.item(row, link_id, value)
                if found is None:
                    return None
            out.append(found)
        return out

    def render(self, rows: Sequence[Values]) -> list[bytes]:
        out = []
        templates = self.templates
        key_at = self.key_at
        empty_at = self.empty_at
        for row in rows:
            fragments = self.fragments(row)
            template = None
            if fragments is not None:
                key = (
                    *(row[n] for n in key_at),
                    *(row[n] is None for n in empty_at),
                )
                template = templates.get(key)
                if (
                    template is None
                    and key not in templates
                    and len(templates) < _SHAPES
                ):
                    template = templates[key] = self.template(row)
            if template is None or fragments is None:
                self.fallbacks += 1
                out.append(self.slow(row))
                continue
            if fragments:
                out.append(
                    template.fill(row) + b',"item":[' + b",".join(fragments) + b"]}"
                )
            else:
                out.append(template.fill(row) + b"}")
        return out


class Scores(_Shapes):
    """Score Observation lines. A shape is the stored score's band, flags, triage
    and subscale names with the instrument and channel; the total and the subscale
    values are holes. A row whose score must be computed again (an older instrument
    version, neither total nor triage) renders through `expand`."""

    holes = {**_RESPONSE_HOLES, "total": "int"}
    _KEYS = (
        "instrument_code",
        "instrument_version",
        "sex_for_scoring",
        "source",
        "severity",
        "triage",
        "raises_safety_alert",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.code_at = self.at["instrument_code"]
        self.version_at = self.at["instrument_version"]
        self.total_at = self.at["total"]
        self.triage_at = self.at["triage"]
        self.flags_at = self.at["flags"]
        self.answers_at = self.at["answers"]
        self.subscales_at = self.at["subscales"]
        self.key_at = [self.at[c] for c in self._KEYS]
        self.empty_at = [at for at, _ in self.hole_at]
        self.versions = {code: i.version for code, i in INSTRUMENTS.items()}

    def sentinels(self, row: Values, which: int) -> tuple[list[Any], dict[bytes, Hole]]:
        """The row with sentinels in its holes and its subscales' values (appended
        to the row, where `fill` finds them); answers emptied on the second set (a
        stored score must not depend on them)."""
        names = list(row[self.subscales_at])
        out, marks = self.sentinel_row(row, which, extra=["int"] * len(names))
        width = len(row)
        out[self.subscales_at] = {name: out[width + n] for n, name in enumerate(names)}
        if which:
            out[self.answers_at] = {}
        return out, marks

    def template(self, row: Values) -> Template | None:
        first, marks = self.sentinels(row, 0)
        second, _ = self.sentinels(row, 1)
        try:
            lines = self.slow(first[: len(row)]), self.slow(second[: len(row)])
        except ValueError:
            return None
        return self.checked(lines[0], lines[1], marks, second)

    def render(self, rows: Sequence[Values]) -> list[bytes]:
        out = []
        templates = self.templates
        versions = self.versions
        key_at = self.key_at
        empty_at = self.empty_at
        for row in rows:
            subscales = row[self.subscales_at]
            flags = row[self.flags_at]
            template = None
            if (
                versions.get(row[self.code_at]) == row[self.version_at]
                and (row[self.total_at] is not None or row[self.triage_at])
                and type(subscales) is dict
                and type(flags) is list
                and len(subscales) < 32
            ):
                key = (
                    *(row[n] for n in key_at),
                    *(row[n] is None for n in empty_at),
                    tuple(flags),
                    tuple(subscales),
                )
                template = templates.get(key)
                if (
                    template is None
                    and key not in templates
                    and len(templates) < _SHAPES
                ):
                    template = templates[key] = self.template(row)
            if template is None:
                self.fallbacks += 1
                out.append(self.slow(row))
            elif subscales:
                out.append(template.fill((*row, *subscales.values())))
            else:
                out.append(template.fill(row))
        return out
