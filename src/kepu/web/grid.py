"""The dashboard's status grid rendered in Python: at 200 targets × 8 units, per-cell template
tags cost most of the page's server time, and this markup is plain enough to build directly."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kepu.core.models import OrgUnit
from kepu.plans.models import Target, TargetKind, TargetStatus
from kepu.plans.selectors import GridRow, format_number, format_value
from kepu.plans.status import uncertainty

NOT_ALLOCATED = SafeString('<span class="muted">—</span>')


def _value(t: Target, status: TargetStatus) -> str:
    """The value the status is about, at the indicator's precision. A yearly target judged on a year
    not yet reported shows the year its latest value comes from, so "321 / 300" cannot be read as
    this year's figure."""
    value = format_value(status.current, t.indicator.integer)
    if value and t.kind == TargetKind.FLOW and status.current_year and status.current_year != status.evaluation_year:
        return _("%(value)s(%(year)s年)") % {"value": value, "year": status.current_year}
    return value


def _uncertainty_line(t: Target, status: TargetStatus) -> str:
    """Only for targets judged from survey estimates: the grid stays compact for the rest (their
    probability and interval are on the target page)."""
    text = uncertainty(t, status) if status.survey else ""
    return format_html('<div class="muted" data-testid="uncertainty">{}</div>', text) if text else ""


def _cell(t: Target, code: str, status: TargetStatus | None, labels: dict[str, str]) -> SafeString:
    if status is None:
        return format_html('<td data-unit="{}">{}</td>', code, NOT_ALLOCATED)
    value = _value(t, status)
    extra = format_html('<div class="muted" data-testid="cell-value">{}</div>', value) if value else ""
    return format_html('<td data-unit="{}"><span class="badge st-{}">{}</span>{}{}</td>',
                       code, status.status, labels[status.status], extra, _uncertainty_line(t, status))


def _city_cell(t: Target, city: TargetStatus | None, labels: dict[str, str]) -> SafeString:
    if city is None:
        return format_html("<td>{}</td>", NOT_ALLOCATED)
    return format_html('<td data-unit="city"><span class="badge st-{}">{}</span><div class="muted">{} / {}</div>'
                       "{}</td>", city.status, labels[city.status], _value(t, city) or "—",
                       format_number(city.target_value), _uncertainty_line(t, city))


def grid_rows(rows: list[GridRow], lang: str, own_unit: OrgUnit | None = None) -> SafeString:
    """With `own_unit` (a user who sees one district), each target also shows that district's share."""
    labels = {k: str(v) for k, v in TargetStatus.Status.choices}
    each_year = _("每年")
    out = []
    for row in rows:
        t = row.target
        url = reverse("web:target_detail", args=[t.code])
        when = str(t.deadline_year) if t.deadline_year else each_year
        city_cell = _city_cell(t, row.city, labels) if row.show_city else ""
        if row.cells and t.cascade == Target.Cascade.NONE and all(s is None for _, s in row.cells):
            cells = format_html('<td colspan="{}" class="muted" data-testid="city-only">{}</td>', len(row.cells),
                                _("仅全市考核，不分解到各区"))
        else:
            cells = format_html_join("", "{}", ((_cell(t, u.code, s, labels),) for u, s in row.cells))
        share = ""
        own = next((s for u, s in row.cells if own_unit is not None and u.pk == own_unit.pk), None)
        if own is not None:
            share = format_html(' · <span data-testid="own-allocation">{}</span>', _("本区分解 %(value)s%(unit)s") % {
                "value": format_number(own.target_value), "unit": t.unit})
        out.append(format_html(
            '<tr data-target="{}"><td><a href="{}">{} {}</a><div class="muted">{} · {}{} · {}{}</div></td>'
            "{}{}</tr>",
            t.code, url, t.code, t.name(lang), t.get_kind_display(), format_number(t.value), t.unit, when, share,
            city_cell, cells))
    return SafeString("".join(out))
