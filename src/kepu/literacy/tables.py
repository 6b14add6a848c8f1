"""Reading respondent-level tables (CSV in UTF-8, or the first sheet of an XLSX) as strings.
No Django here: the `kepu literacy estimate` CLI and the wave import share it."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from kepu.core.errors import InputError


def read_table(content: bytes, name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows as strings, from CSV or XLSX."""
    if name.lower().endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for a bad file
            raise InputError(f"{name}: not an .xlsx workbook ({exc})") from exc
        rows = [["" if v is None else str(v) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 text; save the CSV as UTF-8") from exc
        rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{name}: the file is empty")
    return [h.strip() for h in rows[0]], rows[1:]
