"""Wave results as XLSX and PDF: the same figures, for the same user, as the page (cells the NCHS
presentation standard suppresses show "—", flagged ones "*", each with its footnote; a district user's
file holds only their district's own results), in Chinese."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone, translation
from openpyxl import Workbook

from kepu.core.pdf import register_cjk_font
from kepu.core.uploads import xlsx_bytes
from kepu.literacy import selectors
from kepu.literacy.models import Wave, WaveEstimate
from kepu.literacy.selectors import ItemAnalysis, WaveResults

HEAD = ["分组", "类别", "样本量", "有效样本量", "比例(%)", "标准误(百分点)", "95% 置信区间下限(%)",
        "95% 置信区间上限(%)", "自由度", "设计效应", "方法", "注"]
RATE, MARK = HEAD.index("比例(%)"), HEAD.index("注")
WEIGHTING_LABELS = [
    ("margins", "校准变量"),
    ("iterations", "迭代次数"),
    ("converged", "是否收敛"),
    ("max_error", "最大相对误差"),
    ("kish_deff", "权数设计效应(Kish)"),
    ("trimmed", "截尾的权数个数"),
    ("trim", "截尾界限(平均权数的倍数)"),
]


def _unit_name(results: WaveResults) -> str:
    return "全市" if results.is_region else results.unit.name_zh


def headline_text(wave: Wave, results: WaveResults) -> str:
    e = results.headline
    if e is None:
        return "尚无估计结果。"
    if e.suppressed:
        return f"{_unit_name(results)}样本 {e.n} 人：{e.suppressed_because}，按 NCHS 比例数据发布标准不予显示。"
    lo, hi = e.ci_published
    return (
        f"{_unit_name(results)}{wave.age_min}–{wave.age_max} 岁居民中具备科学素质的比例为 {100 * e.estimate:.1f}%"
        f"{e.marks}（95% 置信区间 {100 * lo:.1f}%–{100 * hi:.1f}%，样本 {e.n} 人）。"
        + "".join(results.headline_footnotes)
    )


def _rows(results: WaveResults) -> list[list[object]]:
    labels = selectors.level_labels("zh-hans")
    groups: list[tuple[str, str, list[WaveEstimate]]] = []
    if results.headline is not None:
        groups.append(("合计", "", [results.headline]))
    groups += [(str(b.label), b.variable, b.rows) for b in results.breakdowns]
    groups.append(("镇(街道)", "town", results.towns))
    out: list[list[object]] = []
    for group, variable, rows in groups:
        for e in rows:
            name = _unit_name(results) if not variable else labels.get(variable, {}).get(e.level, e.level)
            method = "模型估计(Fay–Herriot)" if e.method == "fay_herriot" else "直接估计"
            design: list[object] = [e.n, round(e.effective_n, 1) if e.effective_n is not None else ""]
            df = e.df if e.df is not None else ""
            if e.suppressed:
                out.append([group, name, *design, "—", "—", "—", "—", df, "—", method, ""])
                continue
            lo, hi = e.ci_published
            out.append([group, name, *design, round(100 * e.estimate, 1), round(100 * e.se, 2), round(100 * lo, 1),
                        round(100 * hi, 1), df, round(e.deff, 2) if e.deff is not None else "", method, e.marks])
    return out


def _alpha_method(method: str) -> str:
    if method == "complete":
        return "按全部答过这些题的受访者计算"
    return "各人问卷不同：按题目两两相关的平均值换算为一份问卷题数下的标准化 α"


def _pdf_cells(row: list[object]) -> list[str]:
    """One table row as text with fixed decimals (effective n, rates and limits 1; SE and deff 2), the
    "*" mark beside the rate instead of in a column of its own."""
    digits = {3: 1, 4: 1, 5: 2, 6: 1, 7: 1, 9: 2}
    cells = [f"{v:.{digits[i]}f}" if isinstance(v, float) and i in digits else str(v) for i, v in enumerate(row)]
    cells[RATE] += cells[MARK]
    return cells[:MARK]


def _weighting_value(key: str, value: Any) -> object:
    if key == "margins":
        return selectors.margins_label(list(value or []))
    if key == "converged":
        return "是" if value else "否"
    if key == "trim":
        return "—" if not value else f"{value[0]}–{value[1]}"
    if isinstance(value, float):
        return round(value, 4)
    return value


def wave_xlsx(wave: Wave, results: WaveResults, analysis: ItemAnalysis | None = None) -> bytes:
    from openpyxl.styles import Font

    with translation.override("zh-hans"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "估计结果"
        ws.append([f"{wave.name_zh} · {_unit_name(results)} · 评分标准：{wave.profile.name_zh}"])
        ws["A1"].font = Font(bold=True)
        ws.append([headline_text(wave, results)])
        ws.append(HEAD)
        for row in _rows(results):
            ws.append(row)
        for note in results.footnotes:
            ws.append([note])
        if results.town_note:
            ws.append([])
            ws.append([results.town_note])
        ts = wb.create_sheet("等级分布")
        ts.append(["等级", "加权比例(%)", "样本量"])
        for tier, share, n in results.tiers:
            ts.append([tier, round(100 * share, 1), n])
        if wave.weighting:
            wt = wb.create_sheet("加权")
            for key, label in WEIGHTING_LABELS:
                if key in wave.weighting:
                    wt.append([label, _weighting_value(key, wave.weighting[key])])
        if analysis is not None and analysis.items:
            ia = wb.create_sheet("题目分析")
            ia.append(["维度", "信度 Cronbach α", "每份问卷题数", "依据人数", "说明"])
            for a in analysis.reliability:
                ia.append([a.label, round(a.alpha, 3) if a.alpha is not None else "", a.items, a.n,
                           a.reason or _alpha_method(a.method)])
            ia.append([])
            ia.append([f"样本量为答到该题的受访者人数(样本共 {analysis.sample_n} 人，各人问卷不同)"])
            ia.append(["题目", "维度", "样本量", "答对率(%)", "区分度"])
            for s in analysis.items:
                ia.append([s.item.code, s.item.get_dimension_display(), s.n, round(100 * s.difficulty, 1),
                           round(s.discrimination, 3) if s.discrimination == s.discrimination else ""])
        of = wb.create_sheet("官方数据")
        of.append(["地区", "年份", "具备科学素质的比例(%)"])
        for zh, _en, year, value in selectors.OFFICIAL:
            of.append([zh, year, value])
    return xlsx_bytes(wb)  # names and labels typed by people stay text, never formulas


def _ci_chart(rows: list[tuple[str, float, float, float]], font: str) -> Any:
    """Bars of the share with 95% CI whiskers (percent), drawn with reportlab shapes."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    width, height, left, bottom = 700.0, 190.0, 36.0, 34.0
    top = max([hi for _n, _e, _lo, hi in rows] + [10.0])
    top = 10 * (int(top // 10) + 1)
    d = Drawing(width, height)
    plot_h = height - bottom - 12
    slot = (width - left) / max(len(rows), 1)
    for tick in range(0, int(top) + 1, 10):
        y = bottom + plot_h * tick / top
        d.add(Line(left, y, width, y, strokeColor=colors.HexColor("#e5e7eb"), strokeWidth=0.5))
        d.add(String(left - 4, y - 3, f"{tick}%", fontName=font, fontSize=7, textAnchor="end"))
    for i, (name, est, lo, hi) in enumerate(rows):
        x = left + i * slot + slot * 0.2
        w = slot * 0.6
        d.add(Rect(x, bottom, w, plot_h * est / top, fillColor=colors.HexColor("#2f81f7"), strokeColor=None))
        cx = x + w / 2
        y_lo, y_hi = bottom + plot_h * lo / top, bottom + plot_h * hi / top
        for line in ((cx, y_lo, cx, y_hi), (cx - 4, y_lo, cx + 4, y_lo), (cx - 4, y_hi, cx + 4, y_hi)):
            d.add(Line(*line, strokeColor=colors.HexColor("#0b3d75"), strokeWidth=1))
        d.add(String(cx, bottom - 11, name, fontName=font, fontSize=7.5, textAnchor="middle"))
        d.add(String(cx, bottom + 2, f"{est:.1f}", fontName=font, fontSize=7, textAnchor="middle",
                     fillColor=colors.white))
    return d


def wave_pdf(wave: Wave, results: WaveResults, analysis: ItemAnalysis | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22)
    big = ParagraphStyle("h", fontName=font, fontSize=22, leading=30, textColor=colors.HexColor("#0b3d75"))
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11, leading=16, spaceBefore=4)
    buf = io.BytesIO()
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    unit = _unit_name(results)

    def footer(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#57606a"))
        canvas.drawString(12 * mm, 7 * mm, f"{wave.name_zh} · {unit} · 生成于 {generated}")
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 7 * mm, f"第 {canvas.getPageNumber()} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
        bottomMargin=14 * mm, title=f"{wave.name_zh} · {unit}",
    )
    e = results.headline
    story: list[Any] = [Paragraph(f"{wave.name_zh} · {unit}公民科学素质测评结果", title)]
    if e is not None and not e.suppressed:
        lo, hi = e.ci_published
        story.append(Paragraph(f"具备科学素质的比例 {100 * e.estimate:.1f}%{e.marks}", big))
        story.append(Paragraph(f"95% 置信区间 {100 * lo:.1f}%–{100 * hi:.1f}% · 样本 {e.n} 人 · "
                               f"设计效应 {e.deff or 1:.2f}", h2))
        story += [Paragraph(note, body) for note in results.headline_footnotes]
    else:
        story.append(Paragraph(headline_text(wave, results), h2))
    story += [
        Spacer(1, 3 * mm),
        Paragraph(
            f"评分标准：{wave.profile.name_zh}；范围：{wave.age_min}–{wave.age_max} 岁居民。"
            "标准误按分层多阶段抽样设计计算(考虑了加权校准)。"
            + results.methods_note
            + ("" if results.is_region else f"本文件只含{unit}的结果：比例、分组和等级分布只用本区样本计算。"),
            body,
        ),
        Spacer(1, 5 * mm),
    ]
    labels = selectors.level_labels("zh-hans")
    for b in results.breakdowns[:2]:
        shown = [r for r in b.rows if not r.suppressed]
        if shown:
            chart = _ci_chart([(labels.get(b.variable, {}).get(r.level, r.level) + r.marks, 100 * r.estimate,
                                100 * r.ci_published_low, 100 * r.ci_published_high) for r in shown], font)
            story.append(KeepTogether([Paragraph(f"按{b.label}：具备科学素质的比例及 95% 置信区间", h2), chart]))
            story.append(Spacer(1, 4 * mm))
    grid = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d9e0"))]
    story.append(Paragraph("估计结果", h2))
    table = Table([HEAD[:MARK], *[_pdf_cells(r) for r in _rows(results)]], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*grid, ("ALIGN", (2, 1), (-2, -1), "RIGHT")]))
    story.append(table)
    story += [Spacer(1, 1.5 * mm), *[Paragraph(note, body) for note in results.footnotes]]
    if results.town_note:
        story += [Spacer(1, 2 * mm), Paragraph(results.town_note, body)]
    if results.tiers:
        tt = Table([["等级", "比例(%)", "样本量"], *[[t, f"{100 * s:.1f}", str(n)] for t, s, n in results.tiers]],
                   hAlign="LEFT")
        tt.setStyle(TableStyle([*grid, ("ALIGN", (1, 1), (-1, -1), "RIGHT")]))
        story += [Spacer(1, 5 * mm), KeepTogether([Paragraph("等级分布(加权)", h2), tt])]
    if analysis is not None and analysis.reliability:
        rt = Table([["维度", "α", "每份问卷题数", "依据人数", "说明"],
                    *[[a.label, f"{a.alpha:.2f}" if a.alpha is not None else "—", str(a.items), str(a.n),
                       a.reason or _alpha_method(a.method)] for a in analysis.reliability]], hAlign="LEFT")
        rt.setStyle(TableStyle([*grid, ("ALIGN", (1, 1), (3, -1), "RIGHT")]))
        story += [Spacer(1, 5 * mm), KeepTogether([Paragraph("信度(Cronbach α)", h2), rt])]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
