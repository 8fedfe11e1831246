"""Bulk export lines rendered from value tuples (`server.lines`): byte for byte what
the mappers give, for every instrument, channel, author and amendment, and through
templates (not a row-by-row fallback) for the ordinary rows."""

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from neuroclinic.accounts.models import User
from neuroclinic.interop.server.http import dumps
from neuroclinic.interop.server.registry import (
    RESOURCE_TYPES,
    Source,
    row_builder,
    value_tuples,
)
from neuroclinic.measures.instruments import INSTRUMENTS, InvalidResponse, score
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.patients.models import Patient


def _scored_answers(code: str, rng: random.Random) -> dict[str, Any] | None:
    """Random answers to every item that the instrument scores, or None."""
    instrument = INSTRUMENTS[code]
    for _ in range(200):
        answers: dict[str, Any] = {}
        for item in instrument.items:
            if item.enable_when is not None and rng.random() < 0.5:
                continue
            answers[item.link_id] = rng.choice(item.options).value
        try:
            score(code, answers, sex="female")
        except InvalidResponse:
            continue
        return answers
    return None


def _response(
    patient: Patient,
    code: str,
    answers: dict[str, Any],
    *,
    when: Any,
    source: str,
    by: User | None,
    version: str | None = None,
    amends: QuestionnaireResponse | None = None,
) -> QuestionnaireResponse:
    result = score(code, answers, sex="female")
    return QuestionnaireResponse.objects.create(
        organization=patient.organization,
        patient=patient,
        instrument_code=code,
        instrument_version=version or INSTRUMENTS[code].version,
        answers=answers,
        sex_for_scoring="female",
        total=result.total,
        severity=str(result.severity or ""),
        flags=[str(f) for f in result.flags],
        subscales=result.subscales,
        triage=str(result.triage or ""),
        raises_safety_alert=result.safety_alert,
        source=source,
        completed_at=when,
        entered_by=by,
        amends=amends,
    )


def _render_both(source: Source) -> tuple[list[bytes], list[bytes], int]:
    """The source's rows rendered by `lines` and by `expand`, and how many rows the
    lines renderer sent through `expand` itself."""
    assert source.lines is not None
    build = row_builder(source.values)
    renderer = source.lines(("pk", *source.values), build, source.expand)
    fast: list[bytes] = []
    read: list[bytes] = []
    for batch in value_tuples(source.queryset.order_by("pk"), source.values, 7):
        fast += renderer.render(batch)
        read += [dumps(r) for r in source.expand([build(v) for v in batch])]
    return fast, read, renderer.fallbacks


def test_lines_from_tuples_are_byte_for_byte_the_mappers(
    patient: Patient, nurse: User, director: User
) -> None:
    rng = random.Random(13)
    now = timezone.now()
    made = 0
    for n, code in enumerate(sorted(INSTRUMENTS)):
        for k in range(6):
            answers = _scored_answers(code, rng)
            if answers is None:
                continue
            _response(
                patient,
                code,
                answers,
                when=now - timedelta(days=n, hours=k, microseconds=k * 1234),
                source=list(QuestionnaireResponse.Source)[k % 5],
                by=(nurse, None, director)[k % 3],
            )
            made += 1
    assert made >= 6 * (len(INSTRUMENTS) - 2)
    # An amended response, and one scored under an older version (scored again).
    first = _response(
        patient,
        "phq9",
        _scored_answers("phq9", rng) or {},
        when=now - timedelta(days=60),
        source="staff",
        by=nurse,
    )
    _response(
        patient,
        "phq9",
        _scored_answers("phq9", rng) or {},
        when=now - timedelta(days=59),
        source="staff",
        by=nurse,
        amends=first,
    )
    _response(
        patient,
        "phq9",
        _scored_answers("phq9", rng) or {},
        when=now - timedelta(days=58),
        source="portal",
        by=None,
        version="0.9",
    )
    responses = RESOURCE_TYPES["QuestionnaireResponse"].search(director, [])[0]
    scores = RESOURCE_TYPES["Observation"].search(director, [])[0]
    for source, expected_fallbacks in ((responses, 0), (scores, 1)):
        fast, read, fallbacks = _render_both(source)
        assert len(fast) == made + 2  # the amended response is replaced
        assert fast == read
        # Every row from a template but the one whose score is computed again.
        assert fallbacks == expected_fallbacks
    assert any(b'"status":"amended"' in line for line in _render_both(scores)[0])


def test_a_template_is_refused_when_the_line_uses_a_value_other_than_printing_it() -> (
    None
):
    """The template check: a mapping that prints a varying value only as it is
    gets templates; one that computes with it (here, the total doubled) gets none,
    and every line still comes out as the mapping renders it."""
    from uuid import uuid4

    from neuroclinic.interop.server.lines import Scores
    from neuroclinic.interop.server.registry import _SCORE_COLUMNS, _values

    columns = _values(_SCORE_COLUMNS)
    build = row_builder(columns)
    version = INSTRUMENTS["phq9"].version

    def row(total: int) -> tuple[Any, ...]:
        values = dict.fromkeys(columns)
        values |= {
            "patient__id": 1,
            "uuid": uuid4(),
            "patient__uuid": uuid4(),
            "instrument_code": "phq9",
            "instrument_version": version,
            "answers": {},
            "completed_at": timezone.now(),
            "source": "portal",
            "total": total,
            "flags": [],
            "subscales": {},
        }
        return (total, *values.values())

    rows = [row(n) for n in range(10)]

    def printed(found: Any) -> list[dict[str, Any]]:
        return [{"id": str(r.uuid), "total": r.total} for r in found]

    def doubled(found: Any) -> list[dict[str, Any]]:
        return [
            {"id": str(r.uuid), "total": r.total, "twice": r.total * 2} for r in found
        ]

    for expand, fallbacks in ((printed, 0), (doubled, len(rows))):
        renderer = Scores(("pk", *columns), build, expand)
        assert renderer.render(rows) == [
            dumps(r) for r in expand([build(v) for v in rows])
        ]
        assert renderer.fallbacks == fallbacks
