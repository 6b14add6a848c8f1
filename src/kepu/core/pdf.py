"""Shared PDF set-up: the CJK font every report needs (embedded as a subset by reportlab), and a
canvas that numbers pages as "page X of Y"."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

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


FooterDrawer = Callable[[Any, int, int], None]


def numbered_canvas(draw_footer: FooterDrawer) -> type:
    """A reportlab canvas class that holds every page back until the document ends, then calls
    `draw_footer(canvas, page, total)` on each, so footers can say "第 X 页 共 Y 页". The page size is
    part of each held page's state, so portrait and landscape pages each get their own geometry
    (read it from `canvas._pagesize`)."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                draw_footer(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas
