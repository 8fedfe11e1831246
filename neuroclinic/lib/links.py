"""Absolute addresses for links that leave the site (emails, SMS, calendar files).

A mail client or a phone cannot open "/measures/alerts/...": every link in a
message starts with the clinic's public address, settings.PUBLIC_BASE_URL.
"""

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """PUBLIC_BASE_URL joined to `path`; an address that is already absolute is returned as it is."""
    if urlsplit(path).scheme:
        return path
    return settings.PUBLIC_BASE_URL.rstrip("/") + "/" + path.lstrip("/")
