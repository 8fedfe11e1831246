"""Markdown that clinic staff write (public pages, FAQ, consent forms), rendered safely.

Markdown passes raw HTML through, so the output is cleaned with nh3 to a
small set of formatting tags: no scripts, styles, event handlers, iframes or
inline style attributes (the Content-Security-Policy forbids them anyway).
"""

import markdown  # type: ignore[import-untyped]  # no stubs published
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan"},
    "th": {"colspan", "scope"},
}


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(
        text, extensions=["tables", "sane_lists"], output_format="html"
    )
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - cleaned by nh3 just above
