"""Links that leave the site are absolute, built on PUBLIC_BASE_URL."""

from typing import Any

import pytest

from neuroclinic.lib.links import absolute_url


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("http://127.0.0.1:8000", "/portal/x", "http://127.0.0.1:8000/portal/x"),
        (
            "https://clinic.example.org/",
            "/portal/x",
            "https://clinic.example.org/portal/x",
        ),
        (
            "https://clinic.example.org",
            "portal/x",
            "https://clinic.example.org/portal/x",
        ),
        ("https://clinic.example.org", "/", "https://clinic.example.org/"),
        (
            "https://clinic.example.org",
            "https://other.example/a",
            "https://other.example/a",
        ),
    ],
)
def test_absolute_url(settings: Any, base: str, path: str, expected: str) -> None:
    settings.PUBLIC_BASE_URL = base

    assert absolute_url(path) == expected
