"""Reading respondent-level tables (CSV in UTF-8, or the first sheet of an XLSX) as strings, within
the upload limits of `kepu.core.uploads`. The `kepu literacy estimate` CLI and the wave import share it."""

from __future__ import annotations

from kepu.core.errors import InputError
from kepu.core.uploads import read_csv, read_xlsx


def read_table(content: bytes, name: str, *, kind: str = "respondents") -> tuple[list[str], list[list[str]]]:
    """Header and rows as strings, from CSV or XLSX; too big, too many rows or too long a field is refused."""
    if name.lower().endswith(".xlsx"):
        sheets = read_xlsx(content, name=name, kind=kind)
        rows = [["" if v is None else str(v) for v in r] for r in next(iter(sheets.values()), [])]
    else:
        rows = read_csv(content, name=name, kind=kind)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{name}: the file is empty")
    return [h.strip() for h in rows[0]], rows[1:]
