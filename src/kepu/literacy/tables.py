"""Reading respondent files (CSV in UTF-8 or GBK, or the first sheet of an XLSX) as rows of strings, within
the upload limits of `kepu.core.uploads`, for the wave import. CSV goes through the same columnar reader as
`kepu literacy estimate` (`kepu.core.csv_columns`)."""

from __future__ import annotations

from dataclasses import dataclass

from kepu.core.csv_columns import read_columns
from kepu.core.errors import InputError
from kepu.core.uploads import read_xlsx


@dataclass(frozen=True)
class Rows:
    header: list[str]
    rows: list[list[str]]
    numbers: list[int]  # the spreadsheet row (header = 1) of each row, blank rows skipped


def read_rows(content: bytes, name: str, *, kind: str = "respondents") -> Rows:
    """Header and rows as strings, from CSV (read in bulk by `kepu.core.csv_columns`: UTF-8 or GBK, quoted
    fields, ragged rows named) or XLSX; too big, too many rows or too long a field is refused."""
    if name.lower().endswith(".xlsx"):
        sheets = read_xlsx(content, name=name, kind=kind)
        raw = [["" if v is None else str(v) for v in r] for r in next(iter(sheets.values()), [])]
        kept = [(i + 1, r) for i, r in enumerate(raw) if any(c.strip() for c in r)]
        if not kept:
            raise InputError(f"{name}: the file is empty")
        return Rows([h.strip() for h in kept[0][1]], [r for _i, r in kept[1:]], [i for i, _r in kept[1:]])
    table = read_columns(content, name=name, kind=kind)
    text = {c: table.text(c) for c in table.data}  # a repeated column name reads its first column
    rows = [list(r) for r in zip(*(text[h] for h in table.header), strict=True)]
    return Rows(table.header, rows, [table.row(i) for i in range(table.n)])


def read_table(content: bytes, name: str, *, kind: str = "respondents") -> tuple[list[str], list[list[str]]]:
    """Header and rows as strings (see :func:`read_rows`)."""
    table = read_rows(content, name, kind=kind)
    return table.header, table.rows
