"""Annual district assessment reports (PDF and XLSX), built by a background task.

`report_request` records the request and queues `kepu.plans.tasks.build_report`, which calls
`report_build`; the CLI (`kepu report annual`) renders synchronously with the same functions."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import textwrap
from collections.abc import Callable
from typing import Any, Final, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.pdf import numbered_canvas, register_cjk_font
from kepu.core.services import audit_record
from kepu.core.uploads import xlsx_bytes
from kepu.core.worker import FAILED, READY, SUCCESSFUL, task_status, tasks_recover
from kepu.plans.assessment import (
    CARRIED_FORWARD,
    COMPLETENESS_WEIGHT,
    FLAG_LABELS,
    GAPS,
    NO_DATA,
    NOT_DISTINGUISHABLE,
    TARGET_WEIGHT,
    Assessment,
    TargetScore,
    assessment_compute,
)
from kepu.plans.models import Plan, ReportFile, Target
from kepu.plans.selectors import format_value

logger = logging.getLogger(__name__)

FORMATS: Final = ("pdf", "xlsx")
CONTENT_TYPES: Final = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LANGS: Final = ("zh-hans", "en")
# Score bands shared by the PDF cells, the PDF chart and the XLSX fills.
GREEN: Final = "#c8e6c9"
AMBER: Final = "#ffe0b2"
RED: Final = "#ffcdd2"
GREY: Final = "#e0e0e0"


def band_colour(score: TargetScore | float | None) -> str:
    if score is None or (isinstance(score, TargetScore) and score.no_data):
        return GREY
    value = score.score if isinstance(score, TargetScore) else score
    return GREEN if value >= 100 else AMBER if value >= 60 else RED


def report_file_name(plan: Plan, year: int, fmt: str, lang: str = "zh-hans") -> str:
    """The Chinese (official) version has the plain name; translations carry their language."""
    suffix = "" if lang == LANGS[0] else f"-{lang}"
    return f"kepu-assessment-{plan.code}-{year}{suffix}.{fmt}"


def year_check(plan: Plan, year: int) -> None:
    """The assessment covers a finished or running plan year, never the future."""
    current = timezone.localdate().year
    if isinstance(year, bool) or not isinstance(year, int):
        raise InputError(_("年度须为整年，例如 %(example)d。") % {"example": current - 1})
    if not plan.start_year <= year <= current:
        raise InputError(_("年度须在 %(start)d（规划首年）至 %(end)d（今年）之间，不能是 %(year)d。")
                         % {"start": plan.start_year, "end": current, "year": year})


# -- requests and the background build ----------------------------------------------------------

@transaction.atomic
def report_request(
    *, plan: Plan, year: int, fmt: str, user: User | AnonymousUser, lang: str = LANGS[0],
) -> ReportFile:
    """Queue an assessment report; `lang` zh-hans is the official Chinese version, en a translation."""
    if fmt not in FORMATS:
        raise InputError(_("报告格式须为 PDF 或 Excel（xlsx）。"))
    if lang not in LANGS:
        raise InputError(_("报告语言须为中文（zh-hans）或英文（en）。"))
    year_check(plan, year)
    actor = cast(User, user) if user.is_authenticated else None
    report = ReportFile.objects.create(plan=plan, year=year, fmt=fmt, lang=lang, status="pending",
                                       requested_by=cast(Any, actor))  # the project's user model
    audit_record(actor=actor, action="report.request", obj=report,
                 label=f"{plan.code} · {year} · {fmt} · {lang}")
    from kepu.plans.tasks import enqueue_report_build  # the tasks module imports this one lazily too

    enqueue_report_build(report.pk)
    return report


def report_build(*, report_id: int) -> None:
    """Compute and render one requested report; running it again after success does nothing."""
    report = ReportFile.objects.select_related("plan__region").filter(pk=report_id).first()
    if report is None:
        logger.warning("report %s no longer exists", report_id)
        return
    if report.status == "done":
        return
    try:
        content = RENDERERS[report.fmt](assessment_compute(report.plan, report.year), report.lang)
    except Exception as exc:  # any failure must reach the user as a failed report, not a stuck one
        logger.exception("report %s failed", report_id)
        report.status, report.content, report.error = "failed", None, f"{type(exc).__name__}: {exc}"
        report.failure = ReportFile.Failure.ERROR
    else:
        report.status, report.content, report.error, report.failure = "done", content, "", ""
    report.finished_at = timezone.now()
    report.save(update_fields=["status", "content", "error", "failure", "finished_at"])


def report_check(report: ReportFile) -> ReportFile:
    """Called while a page waits on a pending report: recover abandoned tasks, then mark the report
    failed when its build can no longer finish (its task failed, vanished, or has waited longer than
    TASK_STALE_AFTER for a worker), so the page offers a retry instead of waiting for ever."""
    if report.status != "pending":
        return report
    tasks_recover()
    state = task_status(report.task_id)
    waited = (timezone.now() - report.created_at).total_seconds()
    failure, error = None, ""
    if state == FAILED:
        failure, error = ReportFile.Failure.INTERRUPTED, f"build task {report.task_id} failed"
    elif state == SUCCESSFUL or (state is None and waited > settings.TASK_STALE_AFTER):
        failure = ReportFile.Failure.INTERRUPTED
        error = f"build task {report.task_id or '(none)'} ended without finishing the report"
    elif state == READY and waited > settings.TASK_STALE_AFTER:
        failure, error = ReportFile.Failure.TIMEOUT, f"no worker started task {report.task_id} in {waited:.0f} s"
    if failure is not None:
        # Conditional, so a build finishing at this moment keeps its result.
        ReportFile.objects.filter(pk=report.pk, status="pending").update(
            status="failed", failure=failure, error=error, finished_at=timezone.now())
        report.refresh_from_db()
    return report


def report_retry(*, report: ReportFile, user: User | AnonymousUser) -> ReportFile:
    """A failed report is requested again, as a new report with the same plan, year and format."""
    if report.status != "failed":
        raise InputError(_("只能重新生成失败的报告。"))
    return report_request(plan=report.plan, year=report.year, fmt=report.fmt, lang=report.lang, user=user)


def report_list(*, plan: Plan, limit: int = 50) -> list[ReportFile]:
    """The plan's latest requested reports for the assessment page, without their file content."""
    return list(ReportFile.objects.filter(plan=plan).select_related("requested_by").defer("content")
                .order_by("-created_at", "-pk")[:limit])


# -- shared text ----------------------------------------------------------------------------------
# Each report is in one language: the Chinese one is the official version, the English one a
# translation for partners. Labels are (zh, en) pairs picked by `_i(lang)`, so the two versions have
# the same structure and a label missing in one language cannot slip through.

LABELS: Final[dict[str, tuple[str, str]]] = {
    "subtitle": ("{year}年度辖市（区）目标任务评估报告", "Annual Assessment of Districts {year}"),
    "issued_by": ("{office}", "Issued by {office}"),
    "year_assessed": ("评估年度：{year}年", "Year assessed: {year}"),
    "units_assessed": ("参评单位：{n} 个辖市（区）", "Units assessed: {n} districts"),
    "targets_scored": ("评估目标：分解到区的目标 {n} 项，全市目标 {m} 项（其中仅考核全市的 {k} 项）",
                       "Targets: {n} allocated to districts; {m} city-wide, of which {k} for the city only"),
    "generated": ("本报告由 Kepu 平台根据截至 {at}（北京时间）已批准的年度数据生成。",
                  "Generated by Kepu from the annual data approved by {at} (Beijing time)."),
    "footer": ("{office} · {year}年度评估报告", "{office} · Annual assessment {year}"),
    "page": ("第 {page} 页 共 {total} 页", "Page {page} of {total}"),
    "h_method": ("一、评估方法", "1. Method"),
    "h_ranking": ("二、辖市（区）综合排名", "2. Ranking of districts"),
    "h_city": ("三、全市目标完成情况", "3. City-wide targets"),
    "h_matrix": ("四、各辖市（区）分项得分", "4. Scores by target and district"),
    "h_completeness": ("五、报送完整性", "5. Completeness of reporting"),
    "rank": ("名次", "Rank"),
    "district": ("辖市（区）", "District"),
    "target_score": ("目标得分", "Target score"),
    "completeness": ("报送完整性", "Completeness"),
    "final_score": ("综合得分", "Final score"),
    "no_data_targets": ("无数据目标", "Targets without data"),
    "targets_scored_n": ("评估目标数", "Targets scored"),
    "chart_title": ("各辖市（区）综合得分", "Final score by district"),
    "code": ("代码", "Code"),
    "target": ("目标", "Target"),
    "kind": ("类型", "Kind"),
    "city_target": ("全市目标值", "City target"),
    "deadline": ("期限", "Deadline"),
    "every_year": ("每年", "yearly"),
    "city_value": ("全市值", "City value"),
    "value_year": ("数据年份", "Year of value"),
    "milestone": ("本年里程碑", "Milestone"),
    "attainment": ("完成度", "Attainment"),
    "remarks": ("说明", "Notes"),
    "city_only": ("仅考核全市", "city only"),
    "city_intro": ("下表列出评估年度有效的全部目标在全市层面的完成情况，包括未分解到各区、仅考核全市的目标"
                   "（标注“仅考核全市”）。完成度按评估方法第 8 条计算，不计入各区排名。",
                   "Every target in force in {year} at city level, including the targets set for the city only "
                   "(marked \"city only\"). Attainment follows item 8 of the method and does not enter the "
                   "district ranking."),
    "allocation_pct": ("报送完整性（%）", "Completeness (%)"),
    "matrix_note": ("单元格为单项得分（0–100）。* 沿用往年数据；† 部分年份未报；≈ 与目标无显著差异（调查估计值的"
                    "95% 置信区间包含目标值，见评估方法第 9 条）；空白表示该目标未分解到该区。"
                    "仅考核全市的目标见第三部分。",
                    "Cells are scores (0–100). * earlier year's value; † some years not reported; ≈ not "
                    "significantly different from target (the survey estimate's 95% CI contains it; method item "
                    "9); blank: the target is not allocated to the district. Targets for the city only are in "
                    "section 3."),
    "no_data": ("无数据", "no data"),
    "unit": ("单位", "Unit"),
    "expected": ("应报", "Expected"),
    "received": ("已报", "Received"),
    "approved": ("已批准", "Approved"),
    "received_pct": ("已报率", "Share received"),
    "approved_pct": ("批准率", "Share approved"),
    "completeness_intro": ("{year}年度应报、已报（已提交或已批准）与已批准的年度数据项数。",
                           "Annual reports expected, received (submitted or approved) and approved for {year}."),
    "weights": ("综合得分中报送完整性（批准率）占 {c}%，目标得分占 {t}%。",
                "Completeness (approved share) is {c} % of the final score, the target score {t} %."),
    "sheet_ranking": ("排名", "Ranking"),
    "sheet_city": ("全市目标", "City targets"),
    "sheet_scores": ("得分明细", "Scores"),
    "sheet_completeness": ("完整性", "Completeness"),
    "sheet_method": ("方法", "Method"),
    "district_code": ("区代码", "District code"),
    "unit_code": ("单位代码", "Unit code"),
    "allocation": ("分解目标值", "Allocation"),
    "value": ("区值", "Value"),
    "score": ("得分", "Score"),
    "flag": ("标注", "Flag"),
    "method_title": ("评估方法", "Method"),
    "generated_at": ("生成时间：{at}（北京时间）", "Generated: {at} (Beijing time)"),
}
KIND_LABELS: Final[dict[str, tuple[str, str]]] = {
    "flow": ("年度", "yearly"), "stock": ("累计", "cumulative"),
    "rate": ("比率", "rate"), "coverage": ("覆盖率", "coverage"),
}
_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")
_CJK: Final = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _i(lang: str) -> int:
    return 1 if lang.startswith("en") else 0


def _label(key: str, lang: str, **kwargs: Any) -> str:
    return LABELS[key][_i(lang)].format(**kwargs)


def _name(obj: Any, lang: str) -> str:
    return str(obj.name_en if lang.startswith("en") else obj.name_zh)


def _kind(t: Target, lang: str) -> str:
    return KIND_LABELS.get(t.kind, (t.kind, t.kind))[_i(lang)]


def _unit(t: Target, lang: str) -> str:
    """The target's unit; Chinese measure words (个, 名, 所) have no English counterpart: the
    English version shows the bare count, as the target's name says what is counted."""
    return "" if lang.startswith("en") and _CJK.search(t.unit) else t.unit


def _office(plan: Plan, lang: str) -> str:
    """The issuing unit from the plan file (`plan.office`), else the plan's publisher."""
    if lang.startswith("en"):
        return plan.office_en
    return plan.office_zh or str(plan.source.get("publisher", ""))


def _date(d: dt.date, lang: str) -> str:
    if lang.startswith("en"):
        return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month}月{d.day}日"


def _score(x: float | None) -> str:
    """Scores and shares: always one decimal."""
    return "—" if x is None else f"{x:.1f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}%"


def _value(x: float | None, t: Target) -> str:
    """A value at its indicator's precision: counts whole, rates one decimal."""
    return "—" if x is None else format_value(x, t.indicator.integer)


def _with_unit(x: float | None, t: Target, lang: str) -> str:
    text = _value(x, t)
    unit = _unit(t, lang)
    return text if x is None or not unit else f"{text} {unit}" if lang.startswith("en") else f"{text}{unit}"


def _flag_text(s: TargetScore, lang: str) -> str:
    parts = []
    for f in s.flags:
        label = FLAG_LABELS[f][_i(lang)]
        if f == CARRIED_FORWARD and s.value_year is not None:
            label += f" ({s.value_year})" if lang.startswith("en") else f"（{s.value_year}年）"
        if f == NOT_DISTINGUISHABLE and s.ci is not None:
            low, high = _value(s.ci[0], s.target), _value(s.ci[1], s.target)
            label += f" (95% CI {low}–{high})" if lang.startswith("en") else f"（95%置信区间 {low}–{high}）"
        parts.append(label)
    return ("; " if lang.startswith("en") else "；").join(parts)


def _city_remarks(a: Assessment, s: TargetScore, lang: str) -> str:
    parts = [_label("city_only", lang)] if s.target.pk in a.city_only else []
    if s.flags:
        parts.append(_flag_text(s, lang))
    return ("; " if lang.startswith("en") else "；").join(parts)


def _deadline(t: Target, lang: str) -> str:
    if t.kind == "flow":
        return f"{_label('every_year', lang)} {t.period_start}–{t.period_end}"
    return str(t.deadline_year or t.period_end)


def _title(a: Assessment, lang: str) -> tuple[str, str]:
    """(plan name, report title) in the report's language."""
    return _name(a.plan, lang), _label("subtitle", lang, year=a.year)


def _counts(a: Assessment) -> dict[str, int]:
    return {"n": len(a.targets), "m": len(a.city), "k": len(a.city_only)}


# -- PDF ------------------------------------------------------------------------------------------

def render_pdf(a: Assessment, lang: str = "zh-hans") -> bytes:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        BaseDocTemplate,
        Flowable,
        Frame,
        KeepTogether,
        NextPageTemplate,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    en = lang.startswith("en")
    font = register_cjk_font()
    grey = colors.HexColor("#555555")
    rule = colors.HexColor("#999999")
    base = ParagraphStyle("base", fontName=font, fontSize=10 if en else 10.5, leading=16,
                          wordWrap=None if en else "CJK")
    styles = {
        "plan": ParagraphStyle("plan", parent=base, fontSize=17, leading=26, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=32, alignment=TA_CENTER),
        "meta": ParagraphStyle("meta", parent=base, fontSize=11, leading=19, alignment=TA_CENTER),
        "issuer": ParagraphStyle("issuer", parent=base, fontSize=14, leading=22, alignment=TA_CENTER),
        "h1": ParagraphStyle("h1", parent=base, fontSize=15, leading=20, spaceBefore=4, spaceAfter=6),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=11.5),
        "num": ParagraphStyle("num", parent=base, fontSize=9, leading=11.5, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontSize=8.5, leading=10.5),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.2),
        "small_num": ParagraphStyle("small_num", parent=base, fontSize=7.5, leading=9.2, alignment=TA_RIGHT),
        "cover_note": ParagraphStyle("cover_note", parent=base, fontSize=8, leading=11, textColor=grey,
                                     alignment=TA_CENTER),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=11, textColor=grey),
    }

    def p(text: str, style: str = "body") -> Paragraph:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br/>")
        return Paragraph(escaped, styles[style])

    def label(key: str, **kwargs: Any) -> str:
        return _label(key, lang, **kwargs)

    office = _office(a.plan, lang)
    margin = 16 * mm
    portrait_size, landscape_size = A4, landscape(A4)

    def footer(canvas: Any, page: int, total: int) -> None:
        # Drawn after layout, on each page's own size, so landscape footers span the landscape width.
        width = canvas._pagesize[0]
        canvas.saveState()
        canvas.setStrokeColor(rule)
        canvas.setLineWidth(0.4)
        canvas.line(margin, 12 * mm, width - margin, 12 * mm)
        canvas.setFont(font, 8)
        canvas.setFillColor(grey)
        left = label("footer", office=office or _name(a.plan, lang), year=a.year)
        canvas.drawString(margin, 8 * mm, left)
        canvas.drawRightString(width - margin, 8 * mm, label("page", page=page, total=total))
        canvas.restoreState()

    def frame(size: tuple[float, float], top: float = margin) -> Frame:
        return Frame(margin, margin, size[0] - 2 * margin, size[1] - top - margin, id=None,
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

    buf = io.BytesIO()
    plan_name, title = _title(a, lang)
    doc = BaseDocTemplate(
        buf, pagesize=portrait_size, title=f"{plan_name} · {title}", author=office or "Kepu", subject=title,
        lang="en" if en else "zh-CN",
        leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin,
        pageTemplates=[
            PageTemplate("portrait", [frame(portrait_size)], pagesize=portrait_size),
            # A narrower top margin so ~20 targets fit on one landscape page.
            PageTemplate("landscape", [frame(landscape_size, top=12 * mm)], pagesize=landscape_size),
        ],
    )
    width_p = portrait_size[0] - 2 * margin
    width_l = landscape_size[0] - 2 * margin
    story: list[Flowable] = []
    grid = [("GRID", (0, 0), (-1, -1), 0.4, rule), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]

    # Cover: title, the year and what was assessed, then the issuing unit and date, as an official
    # document carries them.
    ranked = [d for d in a.districts if d.rank is not None]
    story += [
        Spacer(1, 50 * mm), p(plan_name, "plan"), Spacer(1, 3 * mm), p(title, "title"), Spacer(1, 16 * mm),
        p(label("year_assessed", year=a.year), "meta"),
        p(label("units_assessed", n=len(ranked)), "meta"),
        p(label("targets_scored", **_counts(a)), "meta"),
        Spacer(1, 55 * mm),
    ]
    if office:
        story.append(p(label("issued_by", office=office), "issuer"))
    story += [p(_date(a.generated_at.date(), lang), "issuer"), Spacer(1, 16 * mm),
              p(label("generated", at=a.generated_at.strftime("%Y-%m-%d %H:%M")), "cover_note"), PageBreak()]

    # 1. Method.
    story.append(p(label("h_method"), "h1"))
    for i, text in enumerate(a.method_en if en else a.method_zh, start=1):
        story += [p(f"{i}. {text}"), Spacer(1, 2.5 * mm)]

    # 2. Ranking table and chart.
    # The ranking and its chart share a page of their own.
    story += [PageBreak(), p(label("h_ranking"), "h1")]
    rows: list[list[Any]] = [[p(label(k), "head") for k in
                              ("rank", "district", "target_score", "completeness", "final_score", "no_data_targets")]]
    for d in a.districts:
        rows.append([
            p(str(d.rank) if d.rank is not None else "—", "cell"), p(_name(d.unit, lang), "cell"),
            p(_score(d.target_score), "num"), p(_pct(d.completeness_pct), "num"),
            p(_score(d.final_score), "num"), p(f"{d.no_data_count} / {len(d.scores)}", "num"),
        ])
    ranking = Table(rows, colWidths=[c * width_p for c in (0.09, 0.31, 0.15, 0.15, 0.15, 0.15)], repeatRows=1)
    ranking.setStyle(TableStyle([
        *grid, *[("BACKGROUND", (4, i), (4, i), colors.HexColor(band_colour(d.final_score)))
                 for i, d in enumerate(a.districts, start=1)],
    ]))
    story += [ranking, Spacer(1, 6 * mm)]

    chart_w, chart_h = width_p, 80 * mm
    drawing = Drawing(chart_w, chart_h)
    chart = VerticalBarChart()
    # Room above the plot for the title and the value labels over full bars.
    chart.x, chart.y, chart.width, chart.height = 30, 30 if not en else 40, chart_w - 40, chart_h - 78
    chart.data = [[d.final_score or 0.0 for d in a.districts]]
    chart.categoryAxis.categoryNames = [textwrap.fill(_name(d.unit, lang), 16) if en else _name(d.unit, lang)
                                        for d in a.districts]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.dy = -4
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7.5
    chart.barLabels.nudge = 6
    chart.bars.strokeColor = None
    for i, d in enumerate(a.districts):
        chart.bars[(0, i)].fillColor = colors.HexColor(band_colour(d.final_score))
        chart.bars[(0, i)].strokeColor = colors.HexColor("#777777")
    drawing.add(chart)
    drawing.add(String(0, chart_h - 12, label("chart_title"), fontName=font, fontSize=10))
    story += [KeepTogether([drawing])]

    # 3. City-wide: every target in force, the city-only ones included, on a landscape page.
    story += [NextPageTemplate("landscape"), PageBreak(), p(label("h_city"), "h1"),
              p(label("city_intro", year=a.year), "note"), Spacer(1, 2 * mm)]
    city_cols = ("code", "target", "kind", "city_target", "deadline", "city_value", "value_year", "milestone",
                 "attainment", "remarks")
    city_rows: list[list[Any]] = [[p(label(k), "head") for k in city_cols]]
    for s in a.city:
        t = s.target
        city_rows.append([
            p(t.code, "small"), p(_name(t, lang), "small"), p(_kind(t, lang), "small"),
            p(_with_unit(t.value, t, lang), "small_num"), p(_deadline(t, lang), "small"),
            p(_with_unit(s.value, t, lang), "small_num"), p(str(s.value_year or "—"), "small"),
            p(_with_unit(s.milestone, t, lang), "small_num"),
            p(_score(None if s.no_data else s.score), "small_num"), p(_city_remarks(a, s, lang), "small"),
        ])
    fixed = [32, 0, 56 if en else 40, 62, 76, 62, 44, 62, 58 if en else 48, 76]
    fixed[1] = width_l - sum(fixed)
    city_table = Table(city_rows, colWidths=fixed, repeatRows=1)
    city_style: list[tuple[Any, ...]] = [
        *grid, ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for r, s in enumerate(a.city, start=1):
        city_style.append(("BACKGROUND", (8, r), (8, r), colors.HexColor(band_colour(s))))
    city_table.setStyle(TableStyle(city_style))
    story.append(city_table)

    # 4. Score matrix: targets × districts.
    story += [PageBreak(), p(label("h_matrix"), "h1")]
    n = max(len(a.districts), 1)
    code_w, kind_w = 34.0, 56.0 if en else 40.0
    dist_w = min(66.0, (width_l - code_w - kind_w - 200) / n)
    name_w = width_l - code_w - kind_w - n * dist_w
    matrix: list[list[Any]] = [[p(label("code"), "head"), p(label("target"), "head"), p(label("kind"), "head"),
                                *[p(_name(d.unit, lang), "small") for d in a.districts]]]
    matrix_style: list[tuple[Any, ...]] = [
        *grid, ("ALIGN", (3, 1), (-1, -1), "CENTER"), ("FONT", (0, 0), (-1, -1), font, 8),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for r, t in enumerate(a.targets, start=1):
        row: list[Any] = [t.code, p(_name(t, lang), "small"), p(_kind(t, lang), "small")]
        for col, d in enumerate(a.districts, start=3):
            cell = a.score(d.unit, t)
            row.append("" if cell is None else _matrix_cell(cell, lang))
            colour = band_colour(cell) if cell is not None else "#ffffff"
            matrix_style.append(("BACKGROUND", (col, r), (col, r), colors.HexColor(colour)))
        matrix.append(row)
    summary_rows = [
        (label("target_score"), [_score(d.target_score) for d in a.districts]),
        (label("allocation_pct"), [_score(d.completeness_pct) for d in a.districts]),
        (label("final_score"), [_score(d.final_score) for d in a.districts]),
        (label("rank"), [str(d.rank) if d.rank is not None else "—" for d in a.districts]),
    ]
    first_summary = len(matrix)
    for text, values in summary_rows:
        matrix.append([p(text, "small"), "", "", *values])
    matrix_style += [
        ("BACKGROUND", (0, first_summary), (-1, -1), colors.HexColor("#f5f5f5")),
        ("LINEABOVE", (0, first_summary), (-1, first_summary), 1, colors.black),
        *[("SPAN", (0, r), (2, r)) for r in range(first_summary, len(matrix))],
    ]
    table = Table(matrix, colWidths=[code_w, name_w, kind_w, *[dist_w] * n], repeatRows=1)
    table.setStyle(TableStyle(matrix_style))
    story += [table, Spacer(1, 2 * mm), _legend(font, label("no_data")), Spacer(1, 1 * mm),
              p(label("matrix_note"), "note")]

    # 5. Completeness.
    story += [NextPageTemplate("portrait"), PageBreak(), p(label("h_completeness"), "h1"),
              p(label("completeness_intro", year=a.year), "note"), Spacer(1, 3 * mm)]
    comp_rows: list[list[Any]] = [[p(label(k), "head") for k in
                                   ("unit", "expected", "received", "approved", "received_pct", "approved_pct")]]
    for c in a.completeness:
        comp_rows.append([p(_name(c.unit, lang), "cell"), p(str(c.expected), "num"), p(str(c.received), "num"),
                          p(str(c.approved), "num"), p(_pct(c.received_pct), "num"), p(_pct(c.approved_pct), "num")])
    comp_table = Table(comp_rows, colWidths=[w * width_p for w in (0.34, 0.12, 0.12, 0.12, 0.15, 0.15)],
                       repeatRows=1)
    comp_table.setStyle(TableStyle([
        *grid, *[("BACKGROUND", (5, i), (5, i), colors.HexColor(band_colour(c.approved_pct)))
                 for i, c in enumerate(a.completeness, start=1)],
    ]))
    story += [comp_table, Spacer(1, 3 * mm),
              p(label("weights", c=round(COMPLETENESS_WEIGHT * 100), t=round(TARGET_WEIGHT * 100)), "note")]

    doc.build(story, canvasmaker=numbered_canvas(footer))
    return buf.getvalue()


def _matrix_cell(s: TargetScore, lang: str) -> str:
    if s.no_data:
        return FLAG_LABELS[NO_DATA][_i(lang)]
    mark = "*" if CARRIED_FORWARD in s.flags else "†" if GAPS in s.flags else ""
    return f"{s.score:.1f}{mark}{'≈' if NOT_DISTINGUISHABLE in s.flags else ''}"


def _legend(font: str, no_data: str) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    items = [(GREEN, "≥ 100"), (AMBER, "60–99.9"), (RED, "< 60"), (GREY, no_data)]
    cells: list[str] = []
    style: list[tuple[Any, ...]] = [("FONT", (0, 0), (-1, -1), font, 7.5),
                                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    for i, (colour, text) in enumerate(items):
        cells += ["", text]
        style += [("BACKGROUND", (2 * i, 0), (2 * i, 0), colors.HexColor(colour)),
                  ("BOX", (2 * i, 0), (2 * i, 0), 0.3, colors.HexColor("#999999"))]
    table = Table([cells], colWidths=[10, 52] * len(items), rowHeights=[10], hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


# -- XLSX -----------------------------------------------------------------------------------------

def render_xlsx(a: Assessment, lang: str = "zh-hans") -> bytes:
    """The PDF's tables as sheets, in the same language, with the same rounding (values at their
    indicator's precision, scores and shares to one decimal)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="EEEEEE")

    def label(key: str, **kwargs: Any) -> str:
        return _label(key, lang, **kwargs)

    def fill(colour: str) -> PatternFill:
        return PatternFill("solid", fgColor=colour.lstrip("#").upper())

    def table(ws: Worksheet, headers: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        ws.append(headers)
        for cell in ws[1]:
            cell.font, cell.fill = bold, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for r in rows:
            ws.append(r)
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = "A2"

    def value_cell(ws: Worksheet, row: int, col: int, t: Target) -> None:
        ws.cell(row, col).number_format = "#,##0" if t.indicator.integer else "#,##0.0"

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = label("sheet_ranking")
    table(ws, [label("rank"), label("code"), label("district"), label("target_score"), label("allocation_pct"),
               label("final_score"), label("no_data_targets"), label("targets_scored_n")],
          [[d.rank, d.unit.code, _name(d.unit, lang), _round(d.target_score), _round(d.completeness_pct),
            _round(d.final_score), d.no_data_count, len(d.scores)] for d in a.districts],
          [8, 12, 30, 14, 18, 14, 18, 14])
    for i, d in enumerate(a.districts, start=2):
        for col in (4, 5, 6):
            ws.cell(i, col).number_format = "0.0"
        ws.cell(i, 6).fill = fill(band_colour(d.final_score))
    if a.districts:
        chart = BarChart()
        chart.type = "col"
        chart.title = f"{label('chart_title')} {a.year}"
        chart.y_axis.title = label("final_score")
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.legend = None
        last = len(a.districts) + 1
        chart.add_data(Reference(ws, min_col=6, min_row=1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=3, min_row=2, max_row=last))
        chart.width, chart.height = 20, 9
        ws.add_chart(chart, "J2")

    ws = wb.create_sheet(label("sheet_city"))
    table(ws, [label("code"), label("target"), label("kind"), label("city_target"), label("unit"),
               label("deadline"), label("city_value"), label("value_year"), label("milestone"),
               label("attainment"), label("remarks")],
          [[s.target.code, _name(s.target, lang), _kind(s.target, lang), _value_number(s.target.value, s.target),
            _unit(s.target, lang), _deadline(s.target, lang), _value_number(s.value, s.target), s.value_year,
            _value_number(s.milestone, s.target), None if s.no_data else _round(s.score),
            _city_remarks(a, s, lang)] for s in a.city],
          [8, 50, 10, 12, 8, 16, 12, 10, 12, 10, 28])
    for r, s in enumerate(a.city, start=2):
        for col in (4, 7, 9):
            value_cell(ws, r, col, s.target)
        ws.cell(r, 10).number_format = "0.0"
        ws.cell(r, 10).fill = fill(band_colour(s))

    ws = wb.create_sheet(label("sheet_scores"))
    score_rows: list[tuple[TargetScore, list[Any]]] = []
    for d in a.districts:
        for t in a.targets:
            ts = a.score(d.unit, t)
            if ts is not None:
                score_rows.append((ts, [
                    d.unit.code, _name(d.unit, lang), t.code, _name(t, lang), _kind(t, lang), _unit(t, lang),
                    _value_number(ts.allocation, t), _value_number(ts.value, t), ts.value_year,
                    _value_number(ts.milestone, t), _round(ts.score), _flag_text(ts, lang),
                ]))
    table(ws, [label("district_code"), label("district"), label("code"), label("target"), label("kind"),
               label("unit"), label("allocation"), label("value"), label("value_year"), label("milestone"),
               label("score"), label("flag")],
          [row for _s, row in score_rows], [12, 30, 8, 50, 10, 8, 12, 12, 10, 12, 10, 24])
    for r, (s, _row) in enumerate(score_rows, start=2):
        for col in (7, 8, 10):
            value_cell(ws, r, col, s.target)
        ws.cell(r, 11).number_format = "0.0"
        ws.cell(r, 11).fill = fill(band_colour(s))

    ws = wb.create_sheet(label("sheet_completeness"))
    table(ws, [label("unit_code"), label("unit"), label("expected"), label("received"), label("approved"),
               f"{label('received_pct')} (%)", f"{label('approved_pct')} (%)"],
          [[c.unit.code, _name(c.unit, lang), c.expected, c.received, c.approved,
            _round(c.received_pct), _round(c.approved_pct)] for c in a.completeness],
          [14, 30, 10, 10, 10, 14, 14])
    for r in range(2, len(a.completeness) + 2):
        for col in (6, 7):
            ws.cell(r, col).number_format = "0.0"

    ws = wb.create_sheet(label("sheet_method"))
    plan_name, title = _title(a, lang)
    office = _office(a.plan, lang)
    method = a.method_en if lang.startswith("en") else a.method_zh
    lines: list[list[Any]] = [
        [plan_name], [title], [label("issued_by", office=office) if office else ""],
        [_date(a.generated_at.date(), lang)],
        [label("generated_at", at=a.generated_at.strftime("%Y-%m-%d %H:%M"))], [],
        [label("method_title")], *[[f"{i}. {text}"] for i, text in enumerate(method, start=1)],
    ]
    for line in lines:
        ws.append(line)
    ws.column_dimensions["A"].width = 130
    for row in ws.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    for r in (1, 2, 7):
        ws.cell(r, 1).font = bold

    return xlsx_bytes(wb)  # target and unit names stay text, never formulas


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


def _value_number(x: float | None, t: Target) -> float | int | None:
    """A value for a spreadsheet cell at its indicator's precision, as the PDF prints it."""
    if x is None:
        return None
    return round(x) if t.indicator.integer else round(x, 1)


RENDERERS: Final[dict[str, Callable[[Assessment, str], bytes]]] = {"pdf": render_pdf, "xlsx": render_xlsx}
