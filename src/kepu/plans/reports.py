"""Annual district assessment reports (PDF and XLSX), built by a background task.

`report_request` records the request and queues `kepu.plans.tasks.build_report`, which calls
`report_build`; the CLI (`kepu report annual`) renders synchronously with the same functions."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any, Final, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kepu.core.errors import InputError
from kepu.core.pdf import register_cjk_font
from kepu.core.services import audit_record
from kepu.core.uploads import xlsx_bytes
from kepu.core.worker import FAILED, READY, SUCCESSFUL, task_status, tasks_recover
from kepu.plans.assessment import (
    CARRIED_FORWARD,
    COMPLETENESS_WEIGHT,
    FLAG_LABELS,
    GAPS,
    TARGET_WEIGHT,
    Assessment,
    TargetScore,
    assessment_compute,
)
from kepu.plans.models import Plan, ReportFile

logger = logging.getLogger(__name__)

FORMATS: Final = ("pdf", "xlsx")
CONTENT_TYPES: Final = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
KIND_LABELS: Final[dict[str, tuple[str, str]]] = {
    "flow": ("年度", "flow"), "stock": ("累计", "stock"),
    "rate": ("比率", "rate"), "coverage": ("覆盖", "coverage"),
}
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


def report_file_name(plan: Plan, year: int, fmt: str) -> str:
    return f"kepu-assessment-{plan.code}-{year}.{fmt}"


def year_check(plan: Plan, year: int) -> None:
    """The assessment covers a finished or running plan year, never the future."""
    current = timezone.localdate().year
    if isinstance(year, bool) or not isinstance(year, int):
        raise InputError(f"year: expected a whole year such as {current - 1}, got {year!r}")
    if not plan.start_year <= year <= current:
        raise InputError(f"year: expected a year from {plan.start_year} (the plan's first year) "
                         f"to {current} (this year), got {year}")


# -- requests and the background build ----------------------------------------------------------

@transaction.atomic
def report_request(*, plan: Plan, year: int, fmt: str, user: User | AnonymousUser) -> ReportFile:
    if fmt not in FORMATS:
        raise InputError(f"fmt: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    year_check(plan, year)
    actor = cast(User, user) if user.is_authenticated else None
    report = ReportFile.objects.create(plan=plan, year=year, fmt=fmt, status="pending",
                                       requested_by=cast(Any, actor))  # the project's user model
    audit_record(actor=actor, action="report.request", obj=report,
                 label=f"{plan.code} · {year} · {fmt}")
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
        content = RENDERERS[report.fmt](assessment_compute(report.plan, report.year))
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
    return report_request(plan=report.plan, year=report.year, fmt=report.fmt, user=user)


# -- shared text ----------------------------------------------------------------------------------

def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "—"
    if float(x).is_integer() and abs(x) >= 10:
        return f"{int(x):,}"
    return f"{x:,.{digits}f}"


def _flag_text(s: TargetScore, lang: int) -> str:
    parts = []
    for f in s.flags:
        label = FLAG_LABELS[f][lang]
        if f == CARRIED_FORWARD and s.value_year is not None:
            label += f" ({s.value_year})"
        parts.append(label)
    return "; ".join(parts)


def _title(a: Assessment) -> tuple[str, str]:
    return (f"{a.plan.name_zh}\n{a.year} 年度辖市（区）评估报告",
            f"{a.plan.name_en}\nAnnual district assessment {a.year}")


# -- PDF ------------------------------------------------------------------------------------------



def render_pdf(a: Assessment) -> bytes:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        BaseDocTemplate,
        CondPageBreak,
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

    font = register_cjk_font()
    grey = colors.HexColor("#555555")
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    styles = {
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=32, alignment=TA_CENTER),
        "title_en": ParagraphStyle("title_en", parent=base, fontSize=13, leading=18, alignment=TA_CENTER,
                                   textColor=grey),
        "meta": ParagraphStyle("meta", parent=base, fontSize=10.5, leading=17, alignment=TA_CENTER),
        "h1": ParagraphStyle("h1", parent=base, fontSize=15, leading=20, spaceBefore=6),
        "h1_en": ParagraphStyle("h1_en", parent=base, fontSize=10, leading=13, textColor=grey, spaceAfter=8),
        "body": base,
        "body_en": ParagraphStyle("body_en", parent=base, fontSize=8.5, leading=11.5, textColor=grey),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "cell_en": ParagraphStyle("cell_en", parent=base, fontSize=6.5, leading=8, textColor=grey),
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=8.6),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6, leading=7.2, textColor=grey),
        "note": ParagraphStyle("note", parent=base, fontSize=7.5, leading=10, textColor=grey),
    }

    def p(text: str, style: str = "body") -> Paragraph:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br/>")
        return Paragraph(escaped, styles[style])

    def two(zh: str, en: str, zh_style: str = "cell", en_style: str = "cell_en") -> list[Flowable]:
        return [p(zh, zh_style), p(en, en_style)]

    def heading(zh: str, en: str) -> list[Flowable]:
        return [p(zh, "h1"), p(en, "h1_en")]

    margin = 16 * mm
    portrait_size, landscape_size = A4, landscape(A4)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(grey)
        width = doc.pagesize[0]
        canvas.drawString(margin, 9 * mm, f"{a.plan.name_zh} · {a.year} 年度评估 Annual assessment")
        canvas.drawRightString(width - margin, 9 * mm, f"第 {doc.page} 页 Page {doc.page}")
        canvas.restoreState()

    def frame(size: tuple[float, float], top: float = margin, bottom: float = margin) -> Frame:
        return Frame(margin, bottom, size[0] - 2 * margin, size[1] - top - bottom, id=None,
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

    buf = io.BytesIO()
    title_zh, title_en = _title(a)
    doc = BaseDocTemplate(
        buf, pagesize=portrait_size, title=title_en.replace("\n", " · "), author="Kepu",
        subject=title_zh.replace("\n", " "), leftMargin=margin, rightMargin=margin, topMargin=margin,
        bottomMargin=margin,
        pageTemplates=[
            PageTemplate("portrait", [frame(portrait_size)], onPage=footer, pagesize=portrait_size),
            # Narrower margins here so the score matrix of ~20 targets fits on one page.
            PageTemplate("landscape", [frame(landscape_size, top=11 * mm, bottom=14 * mm)], onPage=footer,
                         pagesize=landscape_size),
        ],
    )
    width_p = portrait_size[0] - 2 * margin
    width_l = landscape_size[0] - 2 * margin
    story: list[Flowable] = []

    # Title page.
    generated = a.generated_at.strftime("%Y-%m-%d %H:%M")
    ranked = [d for d in a.districts if d.rank is not None]
    story += [
        Spacer(1, 60 * mm), p(title_zh, "title"), Spacer(1, 4 * mm), p(title_en, "title_en"),
        Spacer(1, 18 * mm),
        p(f"评估年度 Year assessed：{a.year}", "meta"),
        p(f"生成时间 Generated：{generated}（北京时间 Asia/Shanghai）", "meta"),
        p(f"参评单位 Units assessed：{len(ranked)}　评估目标 Targets scored：{len(a.targets)}", "meta"),
        Spacer(1, 30 * mm),
        p("本报告由 Kepu 平台根据已批准的年度数据自动生成；评估方法见下页。", "meta"),
        p("Generated by Kepu from approved annual data; the method is on the next page.", "title_en"),
        PageBreak(),
    ]

    # Method.
    story += heading("一、评估方法", "1. Method")
    for i, (zh, en) in enumerate(zip(a.method_zh, a.method_en, strict=True), start=1):
        story += [p(f"{i}. {zh}"), Spacer(1, 1.2 * mm), p(f"{i}. {en}", "body_en"), Spacer(1, 2.8 * mm)]

    # Ranking table and chart.
    story += [CondPageBreak(110 * mm), *heading("二、综合排名", "2. Ranking")]
    head = [two("名次", "Rank"), two("辖市（区）", "District"), two("目标得分", "Target score"),
            two("报送完整性", "Completeness"), two("综合得分", "Final score"),
            two("无数据目标", "Targets w/o data")]
    rows: list[list[Any]] = [head]
    for d in a.districts:
        rows.append([
            p(str(d.rank) if d.rank is not None else "—", "cell"), two(d.unit.name_zh, d.unit.name_en),
            p(_fmt(d.target_score), "cell"), p(f"{_fmt(d.completeness_pct)} %", "cell"),
            p(_fmt(d.final_score), "cell"), p(f"{d.no_data_count} / {len(d.scores)}", "cell"),
        ])
    cols = [0.09, 0.27, 0.15, 0.17, 0.15, 0.17]
    ranking = Table(rows, colWidths=[c * width_p for c in cols], repeatRows=1)
    table_style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for i, d in enumerate(a.districts, start=1):
        table_style.append(("BACKGROUND", (4, i), (4, i), colors.HexColor(band_colour(d.final_score))))
    ranking.setStyle(TableStyle(table_style))
    story += [ranking, Spacer(1, 6 * mm)]

    chart_w, chart_h = width_p, 78 * mm
    drawing = Drawing(chart_w, chart_h)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 34, 34, chart_w - 50, chart_h - 58
    chart.data = [[d.final_score or 0.0 for d in a.districts]]
    chart.categoryAxis.categoryNames = [d.unit.name_zh for d in a.districts]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.dy = -4
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
    drawing.add(String(0, chart_h - 12, "综合得分 Final score by district", fontName=font, fontSize=9))
    story += [KeepTogether([drawing])]

    # Score matrix: targets × districts on a landscape page, sized so ~20 targets fit on one page.
    story += [NextPageTemplate("landscape"), PageBreak(),
              *heading("三、各目标得分", "3. Scores by target and district")]
    n = max(len(a.districts), 1)
    code_w, kind_w = 30.0, 36.0
    dist_w = min(70.0, (width_l - code_w - kind_w - 200) / n)
    name_w = width_l - code_w - kind_w - n * dist_w
    head = [p("代码\nCode", "small"), p("目标 Target", "small"), p("类型\nKind", "small"),
            *[two(d.unit.name_zh, d.unit.name_en, "small", "tiny") for d in a.districts]]
    matrix: list[list[Any]] = [head]
    matrix_style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (3, 1), (-1, -1), "CENTER"),
        ("FONT", (0, 0), (-1, -1), font, 7.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for r, t in enumerate(a.targets, start=1):
        kind_zh, kind_en = KIND_LABELS.get(t.kind, (t.kind, t.kind))
        row: list[Any] = [t.code, two(t.name_zh, t.name_en, "small", "tiny"),
                          p(f"{kind_zh}\n{kind_en}", "tiny")]
        for col, d in enumerate(a.districts, start=3):
            s = a.score(d.unit, t)
            row.append("" if s is None else _matrix_cell(s))
            colour = band_colour(s) if s is not None else "#ffffff"
            matrix_style.append(("BACKGROUND", (col, r), (col, r), colors.HexColor(colour)))
        matrix.append(row)
    summary_rows = [
        ("目标得分 Target score", [_fmt(d.target_score) for d in a.districts]),
        ("报送完整性 Completeness %", [_fmt(d.completeness_pct) for d in a.districts]),
        ("综合得分 Final score", [_fmt(d.final_score) for d in a.districts]),
        ("名次 Rank", [str(d.rank) if d.rank is not None else "—" for d in a.districts]),
    ]
    first_summary = len(matrix)
    for label, values in summary_rows:
        matrix.append([p(label, "small"), "", "", *values])
    matrix_style += [
        ("BACKGROUND", (0, first_summary), (-1, -1), colors.HexColor("#f5f5f5")),
        ("LINEABOVE", (0, first_summary), (-1, first_summary), 1, colors.black),
        *[("SPAN", (0, r), (2, r)) for r in range(first_summary, len(matrix))],
    ]
    table = Table(matrix, colWidths=[code_w, name_w, kind_w, *[dist_w] * n], repeatRows=1)
    table.setStyle(TableStyle(matrix_style))
    story.append(table)
    story += [Spacer(1, 2 * mm), _legend(width_l, font, styles["note"]),
              p("单元格为单项得分（0–100）。* 沿用往年数据；† 部分年份未报；空白表示该目标未分解到该区。"
                "　Cells are scores (0–100). * earlier year's value; † some years not reported; "
                "blank: target not allocated to the district.", "note")]

    # Completeness.
    story += [NextPageTemplate("portrait"), PageBreak(),
              *heading("四、报送完整性", "4. Completeness of reporting")]
    story.append(p(f"{a.year} 年度应报、已报（已提交或已批准）与已批准的年度数据项数。"
                   f"Annual reports expected, received (submitted or approved) and approved for {a.year}.",
                   "body_en"))
    story.append(Spacer(1, 3 * mm))
    comp_rows: list[list[Any]] = [[
        two("单位", "Unit"), two("应报", "Expected"), two("已报", "Received"), two("已批准", "Approved"),
        two("已报率", "Received %"), two("批准率", "Approved %"),
    ]]
    for c in a.completeness:
        comp_rows.append([two(c.unit.name_zh, c.unit.name_en), str(c.expected), str(c.received),
                          str(c.approved),
                          f"{_fmt(c.received_pct)} %", f"{_fmt(c.approved_pct)} %"])
    comp_style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 1), (-1, -1), "CENTER"),
        ("FONT", (0, 1), (-1, -1), font, 9),
    ]
    for i, c in enumerate(a.completeness, start=1):
        comp_style.append(("BACKGROUND", (5, i), (5, i), colors.HexColor(band_colour(c.approved_pct))))
    comp_widths = [w * width_p for w in (0.3, 0.12, 0.12, 0.12, 0.17, 0.17)]
    comp_table = Table(comp_rows, colWidths=comp_widths, repeatRows=1)
    comp_table.setStyle(TableStyle(comp_style))
    story += [comp_table, Spacer(1, 3 * mm),
              p(f"综合得分中报送完整性（批准率）占 {COMPLETENESS_WEIGHT:.0%}，"
                f"目标得分占 {TARGET_WEIGHT:.0%}。"
                f"Completeness (approved %) is {COMPLETENESS_WEIGHT:.0%} of the final score, "
                f"the target score {TARGET_WEIGHT:.0%}.", "note")]

    doc.build(story)
    return buf.getvalue()


def _matrix_cell(s: TargetScore) -> str:
    if s.no_data:
        return "无数据"
    mark = "*" if CARRIED_FORWARD in s.flags else "†" if GAPS in s.flags else ""
    return f"{s.score:.0f}{mark}"


def _legend(width: float, font: str, note_style: Any) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    items = [(GREEN, "≥ 100"), (AMBER, "60–99"), (RED, "< 60"), (GREY, "无数据 no data")]
    cells: list[str] = []
    style: list[tuple[Any, ...]] = [("FONT", (0, 0), (-1, -1), font, 7),
                                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    for i, (colour, label) in enumerate(items):
        cells += ["", label]
        style += [("BACKGROUND", (2 * i, 0), (2 * i, 0), colors.HexColor(colour)),
                  ("BOX", (2 * i, 0), (2 * i, 0), 0.3, colors.HexColor("#999999"))]
    table = Table([cells], colWidths=[10, 62] * len(items), rowHeights=[10], hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


# -- XLSX -----------------------------------------------------------------------------------------

def render_xlsx(a: Assessment) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="EEEEEE")

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

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "排名 Ranking"
    table(ws, ["名次 Rank", "代码 Code", "辖市（区）", "District", "目标得分 Target score",
               "报送完整性 % Completeness %", "综合得分 Final score", "无数据目标 Targets without data",
               "评估目标 Targets scored"],
          [[d.rank, d.unit.code, d.unit.name_zh, d.unit.name_en, _round(d.target_score),
            _round(d.completeness_pct),
            _round(d.final_score), d.no_data_count, len(d.scores)] for d in a.districts],
          [10, 14, 16, 30, 14, 16, 14, 16, 12])
    for i, d in enumerate(a.districts, start=2):
        for col in (5, 6, 7):
            ws.cell(i, col).number_format = "0.0"
        ws.cell(i, 7).fill = fill(band_colour(d.final_score))
    if a.districts:
        chart = BarChart()
        chart.type = "col"
        chart.title = f"综合得分 Final score {a.year}"
        chart.y_axis.title = "综合得分 Final score"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.legend = None
        last = len(a.districts) + 1
        chart.add_data(Reference(ws, min_col=7, min_row=1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=3, min_row=2, max_row=last))
        chart.width, chart.height = 20, 9
        ws.add_chart(chart, "K2")

    ws = wb.create_sheet("得分明细 Scores")
    score_rows = []
    for d in a.districts:
        for t in a.targets:
            s = a.score(d.unit, t)
            if s is None:
                continue
            score_rows.append([
                d.unit.code, d.unit.name_zh, t.code, t.name_zh, t.name_en,
                KIND_LABELS.get(t.kind, (t.kind,))[0],
                t.unit, s.allocation, s.value, s.value_year, _round(s.milestone, 2), _round(s.score),
                _flag_text(s, 0), _flag_text(s, 1),
            ])
    table(ws, ["区代码 District code", "辖市（区） District", "目标代码 Target code", "目标 Target",
               "Target (en)", "类型 Kind", "单位 Unit", "分解目标 Allocation", "区值 Value",
               "数据年份 Value year",
               "里程碑 Milestone", "得分 Score", "标注", "Flag"],
          score_rows, [12, 16, 10, 40, 40, 8, 8, 12, 12, 10, 12, 10, 16, 24])
    for row in ws.iter_rows(min_row=2):
        row[11].fill = fill(GREY if row[8].value is None else band_colour(float(row[11].value or 0)))
        row[11].number_format = "0.0"

    ws = wb.create_sheet("完整性 Completeness")
    table(ws, ["单位代码 Unit code", "单位", "Unit", "应报 Expected", "已报 Received", "已批准 Approved",
               "已报率 % Received %", "批准率 % Approved %"],
          [[c.unit.code, c.unit.name_zh, c.unit.name_en, c.expected, c.received, c.approved,
            _round(c.received_pct), _round(c.approved_pct)] for c in a.completeness],
          [16, 16, 30, 12, 12, 12, 14, 14])

    ws = wb.create_sheet("方法 Method")
    title_zh, title_en = _title(a)
    lines: list[list[Any]] = [
        [title_zh.replace("\n", " ")], [title_en.replace("\n", " ")],
        [f"生成时间 Generated: {a.generated_at.strftime('%Y-%m-%d %H:%M')} (Asia/Shanghai)"], [],
        ["评估方法"], *[[f"{i}. {t}"] for i, t in enumerate(a.method_zh, start=1)], [],
        ["Method"], *[[f"{i}. {t}"] for i, t in enumerate(a.method_en, start=1)],
    ]
    for line in lines:
        ws.append(line)
    ws.column_dimensions["A"].width = 130
    for row in ws.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    for r in (1, 5, 6 + len(a.method_zh) + 1):
        ws.cell(r, 1).font = bold

    return xlsx_bytes(wb)  # target and unit names stay text, never formulas


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


RENDERERS: Final[dict[str, Callable[[Assessment], bytes]]] = {"pdf": render_pdf, "xlsx": render_xlsx}
