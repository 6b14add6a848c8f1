"""Wave results as XLSX and PDF (same content as the page: suppressed cells stay suppressed)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from kepu.core.pdf import register_cjk_font
from kepu.literacy import selectors
from kepu.literacy.models import Wave

HEAD = [
    "分组 Group",
    "类别 Level",
    "样本量 n",
    "比例 %",
    "标准误 SE",
    "95% CI 下限",
    "95% CI 上限",
    "Logit CI 下限",
    "Logit CI 上限",
    "设计效应 deff",
    "方法 Method",
]


def _rows(wave: Wave, user: User | AnonymousUser) -> list[list[object]]:
    overall, breakdowns, towns = selectors.wave_estimates(wave, user)
    labels = selectors.level_labels("zh-hans")
    out: list[list[object]] = []
    groups = (
        [("overall", [overall] if overall else [])] + [(b.variable, b.rows) for b in breakdowns] + [("town", towns)]
    )
    for variable, rows in groups:
        for e in rows:
            name = labels.get(variable, {}).get(e.level, e.level)
            if e.suppressed:
                out.append([variable, name, e.n, "n<50", "", "", "", "", "", "", e.method])
                continue
            out.append(
                [
                    variable,
                    name,
                    e.n,
                    round(100 * e.estimate, 2),
                    round(100 * e.se, 2),
                    round(100 * e.ci_low, 2),
                    round(100 * e.ci_high, 2),
                    round(100 * e.ci_logit_low, 2) if e.ci_logit_low is not None else "",
                    round(100 * e.ci_logit_high, 2) if e.ci_logit_high is not None else "",
                    round(e.deff, 3) if e.deff is not None else "",
                    "模型估计 model-based (Fay–Herriot)" if e.method == "fay_herriot" else "直接估计 direct",
                ]
            )
    return out


def wave_xlsx(wave: Wave, user: User | AnonymousUser) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "估计 Estimates"
    ws.append([f"{wave.name_zh} · {wave.profile.code} · {wave.age_min}–{wave.age_max}岁"])
    ws["A1"].font = Font(bold=True)
    ws.append(HEAD)
    for row in _rows(wave, user):
        ws.append(row)
    ts = wb.create_sheet("等级 Tiers")
    ts.append(["等级 Tier", "加权比例 %", "样本量 n"])
    for tier, share, n in selectors.tier_distribution(wave):
        ts.append([tier, round(100 * share, 2), n])
    wt = wb.create_sheet("加权 Weighting")
    for k, v in (wave.weighting or {}).items():
        if k != "margins_totals":
            wt.append([k, str(v)])
    of = wb.create_sheet("官方数据 Official")
    of.append(["地区", "Region", "年份 Year", "% 具备科学素质"])
    for official in selectors.OFFICIAL:
        of.append(list(official))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
        d.add(String(cx, bottom - 11, name[:8], fontName=font, fontSize=7.5, textAnchor="middle"))
        d.add(String(cx, bottom + 2, f"{est:.1f}", fontName=font, fontSize=7, textAnchor="middle",
                     fillColor=colors.white))
    return d


def wave_pdf(wave: Wave, user: User | AnonymousUser) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=wave.name_zh,
    )
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    story = [
        Paragraph(f"{wave.name_zh} · 公民科学素质测评结果", title),
        Paragraph(
            f"{wave.name_en} · results. 评分标准 Scoring profile: {wave.profile.code}; 范围 scope: "
            f"{wave.age_min}–{wave.age_max} 岁; 生成 generated {generated}.",
            body,
        ),
        Paragraph(
            "比例为加权估计，标准误按分层多阶段设计的泰勒线性化计算(考虑了加权校准)；样本量不足50的单元格不予显示；"
            "镇(街道)为 Fay–Herriot 模型估计，仅在模型适用时显示。 Shares are weighted; SEs are Taylor-linearised "
            "for the stratified multistage design, accounting for raking; cells with n < 50 are suppressed; "
            "town estimates are model-based (Fay–Herriot) and shown only where the model is adequate.",
            body,
        ),
        Spacer(1, 6 * mm),
    ]
    _overall, breakdowns, _towns = selectors.wave_estimates(wave, user)
    labels = selectors.level_labels("zh-hans")
    for b in breakdowns[:2]:
        shown = [e for e in b.rows if not e.suppressed]
        if shown:
            story.append(Paragraph(f"按{b.label}：具备科学素质比例及 95% 置信区间(logit) · by {b.variable}", body))
            story.append(_ci_chart([(labels.get(b.variable, {}).get(e.level, e.level), 100 * e.estimate,
                                     100 * (e.ci_logit_low if e.ci_logit_low is not None else e.ci_low),
                                     100 * (e.ci_logit_high if e.ci_logit_high is not None else e.ci_high))
                                    for e in shown], font))
            story.append(Spacer(1, 4 * mm))
    data = [HEAD, *[[str(c) for c in r] for r in _rows(wave, user)]]
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d9e0")),
                ("ALIGN", (2, 1), (-2, -1), "RIGHT"),
            ]
        )
    )
    story.append(table)
    tiers = selectors.tier_distribution(wave)
    if tiers:
        story += [Spacer(1, 6 * mm), Paragraph("等级分布 Tier distribution (weighted)", body)]
        tt = Table([["等级 Tier", "%", "n"], *[[t, f"{100 * s:.1f}", str(n)] for t, s, n in tiers]])
        tt.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d9e0")),
                ]
            )
        )
        story.append(tt)
    doc.build(story)
    return buf.getvalue()
