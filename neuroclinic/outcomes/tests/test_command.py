"""The research export command: CSV and Parquet, refused without the capability, audited."""

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from django.core.management import CommandError, call_command

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.outcomes.tests import factories
from neuroclinic.patients.models import Patient


@pytest.fixture
def course(patient: Patient, prescriber: User, director: User, nurse: User) -> None:
    factories.course(
        patient,
        prescriber=prescriber,
        director=director,
        nurse=nurse,
        start=date(2026, 3, 2),
        scores=((-1, 20), (11, 3)),
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_writes_tables_and_dictionary(
    course: None, director: User, patient: Patient, tmp_path: Path, fmt: str
) -> None:
    call_command(
        "research_export", str(tmp_path), "--by", director.username, "--format", fmt
    )
    names = {p.name for p in tmp_path.iterdir()}
    assert f"episodes.{fmt}" in names
    assert "data_dictionary.csv" in names
    if fmt == "parquet":
        table = pq.read_table(tmp_path / "scores.parquet").to_pydict()
        assert table["total"] == ["20", "3"]
        assert table["day"] == ["-1", "11"]
    else:
        text = (tmp_path / "episodes.csv").read_text()
        assert patient.family_name not in text
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.RESEARCH_EXPORTED).count()
        == 1
    )


def test_refused_without_the_capability(nurse: User, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="may not"):
        call_command("research_export", str(tmp_path), "--by", nurse.username)
    with pytest.raises(CommandError, match="No active"):
        call_command("research_export", str(tmp_path), "--by", "nobody")
    assert not list(tmp_path.iterdir())
