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


class Template:
    """A rendered line cut at its holes: `fill(values)` puts `values[hole]` back."""

    __slots__ = ("holes", "parts")

    def __init__(self, rendered: bytes, marks: dict[bytes, int]) -> None:
        pattern = re.compile(
            b"("
            + b"|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True))
            + b")"
        )
        pieces = pattern.split(rendered)
        self.parts = pieces[0::2]
        self.holes = [marks[p] for p in pieces[1::2]]

    def fill(self, values: Sequence[bytes]) -> bytes:
        out = [self.parts[0]]
        for hole, part in zip(self.holes, self.parts[1:], strict=True):
            out.append(values[hole])
            out.append(part)
        return b"".join(out)


def _text(value: Any) -> bytes:
    """A varying value as it is printed in a line."""
    if isinstance(value, UUID):
        return str(value).encode()
    if isinstance(value, datetime):
        return _fhir_datetime(value, name="value").encode()
    return orjson.dumps(value)


class _Shapes:
    """Templates of one type's lines, keyed by a row's shape.

    `columns` is the tuple's layout ("pk" first, then the reader's columns);
    `build` turns a tuple into the row `expand` takes. Subclasses say which columns
    vary (`_holes`) and what else a row's shape is (`_shape`)."""

    holes: dict[str, str] = {}  # column -> "uuid" | "when" | "int"

    def __init__(
        self,
        columns: Sequence[str],
        build: Callable[[Values], Any],
        expand: Callable[[Sequence[Any]], list[dict[str, Any]]],
    ) -> None:
        self.at = {c: n for n, c in enumerate(columns)}
        self.width = len(columns)
        self.build = build
        self.expand = expand
        self.templates: dict[tuple[Any, ...], Template | None] = {}
        self.hole_at = [
            (self.at[c], kind) for c, kind in self.holes.items() if c in self.at
        ]

    def slow(self, row: Values) -> bytes:
        return dumps(self.expand([self.build(row)])[0])

    def sentinel_row(
        self, row: Values, which: int
    ) -> tuple[list[Any], dict[bytes, int], list[bytes]]:
        """`row` with its holes replaced by sentinel set `which`: the tuple, the
        sentinels' text -> hole number, and the holes' text in order."""
        out = list(row)
        marks: dict[bytes, int] = {}
        texts: list[bytes] = []
        counts = {"uuid": 0, "when": 0, "int": 0}
        for hole, (n, kind) in enumerate(self.hole_at):
            if row[n] is None:
                texts.append(b"")
                continue
            k = counts[kind]
            counts[kind] += 1
            value = {"uuid": _UUIDS, "when": _WHEN, "int": _INTS}[kind][which][k]
            out[n] = value
            marks[_text(value)] = hole
            texts.append(_text(value))
        return out, marks, texts

    def checked(
        self, first: bytes, second: bytes, marks: dict[bytes, int], texts: list[bytes]
    ) -> Template | None:
        """The template cut from `first`, if filling it as `second` gives `second`."""
        if not marks:
            return None
        template = Template(first, marks)
        return template if template.fill(texts) == second else None

    def render(self, rows: Sequence[Values]) -> list[bytes]:
        raise NotImplementedError


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


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
        self.items: dict[tuple[str, str, Any], bytes | None] = {}
        self.links = {
            code: frozenset(i.link_id for i in instrument.items)
            for code, instrument in INSTRUMENTS.items()
        }

    def _line(self, row: Sequence[Any], answers: dict[str, Any]) -> bytes:
        out = list(row)
        out[self.answers_at] = answers
        return self.slow(tuple(out))

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
        first, marks, _ = self.sentinel_row(row, 0)
        second, _, texts = self.sentinel_row(row, 1)
        try:
            empty = (self._line(first, {}), self._line(second, {}))
        except ValueError:
            return None
        if not (empty[0].endswith(b"}") and empty[1].endswith(b"}")):
            return None
        template = self.checked(empty[0][:-1], empty[1][:-1], marks, texts)
        instrument = INSTRUMENTS[row[self.code_at]]
        picks = {i.link_id: i.options[0].value for i in instrument.items[:2]}
        fragments = [self.item(row, k, v) for k, v in picks.items()]
        if template is None or any(f is None for f in fragments):
            return None
        joined = b",".join(f for f in fragments if f is not None)
        expected = template.fill(texts) + b',"item":[' + joined + b"]}"
        return template if expected == self._line(second, picks) else None

    def fragments(self, row: Values) -> list[bytes] | None:
        """The row's answered items' texts, in the instrument's order, or None when
        an answer is not one the items' texts are kept for."""
        code = row[self.code_at]
        answers = row[self.answers_at]
        links = self.links.get(code)
        if links is None or not isinstance(answers, dict):
            return None
        if any(k not in links for k in answers):
            return None
        out = []
        for item in INSTRUMENTS[code].items:
            value = answers.get(item.link_id)
            if value is None:
                continue
            if type(value) is not int:
                return None
            found = self.items.get((code, item.link_id, value))
            if found is None:
                found = self.item(row, item.link_id, value)
                if found is None:
                    return None
            out.append(found)
        return out

    def render(self, rows: Sequence[Values]) -> list[bytes]:
        out = []
        templates = self.templates
        for row in rows:
            fragments = self.fragments(row)
            template = None
            if fragments is not None:
                key = (
                    tuple(row[n] for n in self.key_at),
                    tuple(row[n] is None for n, _ in self.hole_at),
                )
                if key not in templates and len(templates) < _SHAPES:
                    templates[key] = self.template(row)
                template = templates.get(key)
            if template is None or fragments is None:
                out.append(self.slow(row))
                continue
            line = template.fill([_text(row[n]) for n, _ in self.hole_at])
            if fragments:
                line += b',"item":[' + b",".join(fragments) + b"]"
            out.append(line + b"}")
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
        "flags",
        "triage",
        "raises_safety_alert",
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.code_at = self.at["instrument_code"]
        self.version_at = self.at["instrument_version"]
        self.total_at = self.at["total"]
        self.triage_at = self.at["triage"]
        self.answers_at = self.at["answers"]
        self.subscales_at = self.at["subscales"]
        self.key_at = [self.at[c] for c in self._KEYS]

    def sentinels(
        self, row: Values, which: int
    ) -> tuple[Values, dict[bytes, int], list[bytes]]:
        """The row with sentinels in its holes and its subscales' values; answers
        emptied on the second set (a stored score must not depend on them)."""
        out, marks, texts = self.sentinel_row(row, which)
        subscales = {}
        for n, name in enumerate(row[self.subscales_at]):
            value = _INTS[which][-1 - n]
            subscales[name] = value
            marks[_text(value)] = len(texts)
            texts.append(_text(value))
        out[self.subscales_at] = subscales
        if which:
            out[self.answers_at] = {}
        return tuple(out), marks, texts

    def template(self, row: Values) -> Template | None:
        first, marks, _ = self.sentinels(row, 0)
        second, _, texts = self.sentinels(row, 1)
        try:
            return self.checked(self.slow(first), self.slow(second), marks, texts)
        except ValueError:
            return None

    def render(self, rows: Sequence[Values]) -> list[bytes]:
        out = []
        templates = self.templates
        for row in rows:
            instrument = INSTRUMENTS.get(row[self.code_at])
            subscales = row[self.subscales_at]
            template = None
            if (
                instrument is not None
                and row[self.version_at] == instrument.version
                and (row[self.total_at] is not None or row[self.triage_at])
                and isinstance(subscales, dict)
                and len(subscales) < 32
            ):
                key = (
                    tuple(_hashable(row[n]) for n in self.key_at),
                    tuple(row[n] is None for n, _ in self.hole_at),
                    tuple(subscales),
                )
                if key not in templates and len(templates) < _SHAPES:
                    templates[key] = self.template(row)
                template = templates.get(key)
            if template is None:
                out.append(self.slow(row))
                continue
            values = [_text(row[n]) for n, _ in self.hole_at]
            values.extend(_text(v) for v in subscales.values())
            out.append(template.fill(values))
        return out
