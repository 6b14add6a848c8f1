"""Shared PDF set-up: the CJK font every report needs (embedded as a subset by reportlab)."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from django.conf import settings

FONT: Final = "WQY"


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the CJK TrueType font once; reportlab embeds the subset it uses in every PDF."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, settings.KEPU_CJK_FONT, subfontIndex=0))
    # No bold face in the collection: map <b> to the same face so markup never falls back to Helvetica.
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(FONT, bold, italic, FONT)
    return FONT
