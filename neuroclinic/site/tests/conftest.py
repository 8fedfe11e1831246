from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    # Uploads, signatures and PDFs go to a throwaway directory, never var/files.
    settings.MEDIA_ROOT = tmp_path / "files"  # type: ignore[attr-defined]
