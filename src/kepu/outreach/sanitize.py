"""HTML in resource bodies is cleaned with nh3 (ammonia) before it is stored: from the editor page, the
API and every importer alike. What survives is text markup and links; scripts, event handlers, styles,
iframes and javascript: URLs do not. Pages still escape what is not a body."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "a", "sub", "sup", "code", "pre", "figure", "figcaption", "table", "thead", "tbody",
    "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(text: str) -> str:
    """The body with only harmless markup left; links open as plain links (rel noopener noreferrer)."""
    if not text:
        return ""
    return nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def paragraphs_to_html(text: str) -> str:
    """Plain text with paragraphs separated by blank lines (the starter content's format) as HTML."""
    paragraphs = [" ".join(p.split("\n")).strip() for p in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)


def html_to_text(body: str) -> str:
    """The words of a body, for search and summaries (tags dropped, entities decoded)."""
    spaced = re.sub(r"(</(?:p|li|h[2-4]|tr|blockquote|pre)>|<br\s*/?>)", r"\1\n", body or "")
    return html.unescape(nh3.clean(spaced, tags=set())).strip()
