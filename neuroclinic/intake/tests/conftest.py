from collections.abc import Callable
from pathlib import Path

import pytest

from neuroclinic.accounts.actions import create_api_token
from neuroclinic.accounts.models import User


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    # Uploads, signatures and PDFs go to a throwaway directory, never var/files.
    settings.MEDIA_ROOT = tmp_path / "files"  # type: ignore[attr-defined]


@pytest.fixture
def api_token() -> Callable[[User], dict[str, str]]:
    """Headers carrying a fresh API token for a user."""

    def headers(user: User) -> dict[str, str]:
        _, raw = create_api_token(user, name="test", by=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return headers
