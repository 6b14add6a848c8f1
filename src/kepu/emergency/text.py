"""Text that staff and files put into guidance: markup and script removed (nh3, as the catalogue does),
zero-width and control characters stripped, lengths bounded. Oversized input is refused before any
parsing, so a 10 MB body costs nothing."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from kepu.outreach.sanitize import html_to_text

# Zero-width and bidi-control characters (used to dodge matching and to spoof text), soft hyphen, BOM.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
RAW_FACTOR = 4  # raw input may carry markup; more than this many times the bound is refused unread


def plain(value: object) -> str:
    """Plain text: tags and script dropped, entities decoded, invisible characters removed, NFC."""
    text = "" if value is None else str(value)
    text = INVISIBLE.sub("", CONTROL.sub("", text))
    if "<" in text or "&" in text:
        text = html_to_text(text)
    return unicodedata.normalize("NFC", text).strip()


def checked(value: object, *, label: str, max_len: int, min_len: int = 0, required: bool = True,
            errors: list[str]) -> str:
    """The cleaned text, or "" with a message appended to `errors` naming the field and the bound."""
    raw = "" if value is None else value
    if not isinstance(raw, str):
        errors.append(_("%(field)s：应为文字。") % {"field": label})
        return ""
    if len(raw) > max_len * RAW_FACTOR:
        errors.append(_("%(field)s：内容过长（%(n)d 字），最多 %(max)d 字。") % {
            "field": label, "n": len(raw), "max": max_len})
        return ""
    text = plain(raw)
    if not text:
        if required:
            errors.append(_("%(field)s：请填写。") % {"field": label})
        return ""
    if len(text) > max_len:
        errors.append(_("%(field)s：内容过长（%(n)d 字），最多 %(max)d 字。") % {
            "field": label, "n": len(text), "max": max_len})
    elif len(text) < min_len:
        errors.append(_("%(field)s：内容过短（%(n)d 字），至少 %(min)d 字。") % {
            "field": label, "n": len(text), "min": min_len})
    return text
