"""Amounts of money: parsed with an explicit unit (元 or 万元) into integer fen, shown back in 元 or
万元, and checked for the commonest slip in budget tables — a figure in 万元 typed as 元, or the
reverse, which makes it 10,000 times too small or too large."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kepu.core.errors import InputError

UNITS = {"yuan": Decimal(100), "wan": Decimal(1_000_000)}  # fen per unit
UNIT_ALIASES = {"元": "yuan", "yuan": "yuan", "万元": "wan", "wan": "wan", "万": "wan"}

# Plausible budgeted science funding per resident for one level of government, in 元. Chinese
# cities budget a few 元 per resident (常州's districts: roughly 1–10 元); a tenfold margin either
# side still catches the 10,000-fold slip of 元 ↔ 万元.
PER_CAPITA_MIN = Decimal("0.01")
PER_CAPITA_MAX = Decimal("500")
# Without a population: a year-on-year change beyond this factor is refused as a unit slip.
YEAR_FACTOR = Decimal(1000)
ABSOLUTE_MIN_FEN = 1_000 * 100  # a budget line under 1,000 元 is almost surely 万元 typed as 元
ABSOLUTE_MAX_FEN = 10**9 * 100  # 10 亿元 is beyond any unit's science budget


def unit_code(unit: str) -> str:
    code = UNIT_ALIASES.get((unit or "").strip().lower())
    if code is None:
        raise InputError(_("金额单位须为“元”或“万元”，得到“%(u)s”。") % {"u": unit})
    return code


def to_fen(value: object, unit: str, *, where: str = "") -> int:
    """Parse an amount in `unit` (元 / 万元) into fen. `where` names the row or field for errors."""
    prefix = f"{where}：" if where else ""
    code = unit_code(unit)
    text = str(value).strip().replace(",", "").replace("，", "") if value is not None else ""
    if isinstance(value, float):
        text = repr(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InputError(prefix + _("金额须为数字，得到“%(v)s”。") % {"v": str(value)[:40]}) from None
    if not amount.is_finite() or amount < 0:
        raise InputError(prefix + _("金额须为非负的有限数字，得到“%(v)s”。") % {"v": str(value)[:40]})
    if amount > Decimal(10**12):
        raise InputError(prefix + _("金额 %(v)s 超出合理范围。") % {"v": str(value)[:40]})
    fen = amount * UNITS[code]
    if fen != fen.to_integral_value():
        raise InputError(prefix + _("金额最多精确到分，得到“%(v)s”。") % {"v": str(value)[:40]})
    return int(fen)


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def wan(fen: int) -> Decimal:
    return (Decimal(fen) / 1_000_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def show_wan(fen: int) -> str:
    return f"{wan(fen):,.2f}"


def plausibility_problem(
    *, fen: int, unit_name: str, population: int | None, previous_fen: int | None, entered_unit: str
) -> str | None:
    """Why an amount looks like it is in the wrong unit, or None. Judged by the budget per resident
    when the unit's population is known, else by the unit's budget the year before, else by bounds."""
    if fen == 0:
        return None  # no science budget this year is a fact to record, not a slip
    hint = _("可能把万元填成了元") if entered_unit == "yuan" else _("可能把元填成了万元")
    if population:
        per_capita = Decimal(fen) / 100 / population
        if per_capita < PER_CAPITA_MIN or per_capita > PER_CAPITA_MAX:
            return _(
                "%(unit)s 人均 %(pc)s 元（常住人口 %(pop)s 人），不在合理范围 %(lo)s–%(hi)s 元/人内，%(hint)s。"
            ) % {"unit": unit_name, "pc": f"{per_capita:.4g}", "pop": f"{population:,}",
                 "lo": PER_CAPITA_MIN, "hi": PER_CAPITA_MAX, "hint": hint}
        return None
    if previous_fen:
        ratio = Decimal(fen) / Decimal(previous_fen)
        if ratio > YEAR_FACTOR or ratio * YEAR_FACTOR < 1:
            return _("%(unit)s 的金额是上一年（%(prev)s 万元）的 %(r)s 倍，%(hint)s。") % {
                "unit": unit_name, "prev": show_wan(previous_fen), "r": f"{ratio:.4g}", "hint": hint}
        return None
    if fen < ABSOLUTE_MIN_FEN or fen > ABSOLUTE_MAX_FEN:
        return _("%(unit)s 的金额 %(v)s 元超出 1000 元至 10 亿元的合理范围，%(hint)s。") % {
            "unit": unit_name, "v": f"{yuan(fen):,}", "hint": hint}
    return None
