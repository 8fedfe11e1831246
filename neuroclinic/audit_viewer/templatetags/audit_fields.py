"""An audit event's details as labelled fields, not a Python dict (issue 18 item 8).

Keys become labels ("session_ref" -> "Session ref"), lists are joined, yes/no for
booleans, and identifiers (UUIDs, SHA-256 digests) are shortened to their first eight
characters with the whole value on hover, as the CSV export keeps it whole.
"""

import re
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

IDENTIFIER = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{40,})$"
)


def label(key: object) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value_html(value: Any) -> SafeString:
    if value is None or value == "" or value == [] or value == {}:
        return format_html("{}", "—")
    if isinstance(value, bool):
        return format_html("{}", "yes" if value else "no")
    if isinstance(value, dict):
        return format_html_join(
            "; ", "{}: {}", ((label(k), value_html(v)) for k, v in value.items())
        )
    if isinstance(value, list | tuple):
        return format_html_join(", ", "{}", ((value_html(v),) for v in value))
    text = str(value)
    if IDENTIFIER.match(text):
        return format_html('<abbr title="{}">{}…</abbr>', text, text[:8])
    return format_html("{}", text)


@register.filter
def audit_fields(data: Any) -> list[tuple[str, SafeString]]:
    """(label, value) pairs for the event's data; a non-dict is one "Details" field."""
    if not data:
        return []
    if not isinstance(data, dict):
        return [("Details", value_html(data))]
    return [(label(key), value_html(value)) for key, value in data.items()]
