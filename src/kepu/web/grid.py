"""The dashboard's status grid rendered in Python: at 200 targets × 8 units, per-cell template
tags cost most of the page's server time, and this markup is plain enough to build directly."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kepu.plans.models import TargetStatus
from kepu.plans.selectors import GridRow, format_number

NOT_ALLOCATED = SafeString('<span class="muted">—</span>')


def _cell(code: str, status: TargetStatus | None, labels: dict[str, str]) -> SafeString:
    if status is None:
        return format_html('<td data-unit="{}">{}</td>', code, NOT_ALLOCATED)
    value = format_number(status.current)
    extra = format_html('<div class="muted" data-testid="cell-value">{}</div>', value) if value else ""
    return format_html('<td data-unit="{}"><span class="badge st-{}">{}</span>{}</td>',
                       code, status.status, labels[status.status], extra)


def grid_rows(rows: list[GridRow], lang: str) -> SafeString:
    labels = {k: str(v) for k, v in TargetStatus.Status.choices}
    each_year = _("每年")
    out = []
    for row in rows:
        t = row.target
        url = reverse("web:target_detail", args=[t.code])
        when = str(t.deadline_year) if t.deadline_year else each_year
        city = row.city
        city_cell = (format_html('<span class="badge st-{}">{}</span><div class="muted">{} / {}</div>', city.status,
                                 labels[city.status], format_number(city.current) or "—",
                                 format_number(city.target_value))
                     if city is not None else NOT_ALLOCATED)
        cells = format_html_join("", "{}", ((_cell(u.code, s, labels),) for u, s in row.cells))
        out.append(format_html(
            '<tr data-target="{}"><td><a href="{}">{} {}</a><div class="muted">{} · {}{} · {}</div></td>'
            "<td>{}</td>{}</tr>",
            t.code, url, t.code, t.name(lang), t.get_kind_display(), format_number(t.value), t.unit, when,
            city_cell, cells))
    return SafeString("".join(out))
