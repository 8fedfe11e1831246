"""Issue 18, item 9: CADSS-6 rates the dissociation an infusion causes, a side effect, so
its trajectory has no "response" (no badge, no response line, no change from baseline),
while a symptom scale keeps them."""

from datetime import UTC, datetime

from neuroclinic.measures.instruments import INSTRUMENTS
from neuroclinic.measures.models import QuestionnaireResponse
from neuroclinic.measures.outcomes import OutcomeRules
from neuroclinic.measures.progress import trajectory_summary


def responses(code: str, *totals: int) -> list[QuestionnaireResponse]:
    return [
        QuestionnaireResponse(
            instrument_code=code,
            total=total,
            completed_at=datetime(2026, 11, day, 15, tzinfo=UTC),
        )
        for day, total in enumerate(totals, start=2)
    ]


def test_a_falling_cadss6_is_not_called_a_response() -> None:
    summary = trajectory_summary(
        INSTRUMENTS["cadss6"], responses("cadss6", 12, 4, 2), rules=OutcomeRules()
    )
    assert "response" not in summary
    assert "change_percent" not in summary
    assert "Response" not in summary["svg"]
    assert "baseline" not in summary["svg"].lower()
    assert "<tr><td>2026-11-04</td><td>2</td><td>—</td>" in str(summary["rows_html"])


def test_a_falling_phq9_is_still_a_response_with_its_line() -> None:
    summary = trajectory_summary(
        INSTRUMENTS["phq9"], responses("phq9", 20, 12, 8), rules=OutcomeRules()
    )
    assert summary["response"] is True
    assert summary["change_percent"] == -60
    assert "Response" in summary["svg"]


def test_only_cadss6_is_a_side_effect_scale() -> None:
    assert [c for c, i in INSTRUMENTS.items() if i.side_effect_scale] == ["cadss6"]
