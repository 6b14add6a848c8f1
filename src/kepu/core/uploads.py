"""Reading what people upload, within bounds, and writing XLSX that cannot run what they typed.

Every file Kepu reads from a person (reporting template, wave respondent file, item bank file, and
the plan, region and item YAML files of the CLI) comes through here:
- size is checked before anything is parsed, rows are counted as they are read (a sheet's
  `<dimension>` is never trusted: it can be wrong on purpose, to hide rows or to make a reader pad
  every row to 16,384 columns);
- an XLSX is a zip: its declared uncompressed sizes and compression ratios are checked before
  openpyxl inflates anything (Python's zipfile never inflates past the declared size), and its XML
  is parsed by defusedxml (openpyxl uses it when it is installed);
- YAML is composed first, and its size with every alias expanded is bounded before Python objects
  are built; a mapping with the same key twice is refused;
- CSV and XLSX cells longer than the limit are refused, naming the row and column.
Limits come from `settings.KEPU_UPLOAD_LIMITS` ({kind: {"max_bytes": …, "max_rows": …}}) over
the defaults below. Messages are for people: Chinese source text, English in the catalogue.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kepu.core.errors import InputError

if TYPE_CHECKING:  # openpyxl takes 0.1 s to import, PyYAML 0.015 s; `kepu literacy estimate` reads CSV only
    import yaml
    from openpyxl.workbook.workbook import Workbook

MB = 1024 * 1024


def _(message: str) -> str:
    """Django's gettext where Django is in use. The bare `kepu literacy estimate` command runs without Django
    (its start-up is part of every estimate): there a message stays in the source language, Chinese, which is
    what the default language (zh-hans) shows anyway."""
    if "django.conf" not in sys.modules:
        return message
    from django.utils.translation import gettext

    return gettext(message)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_columns: int = 1_000
    max_cell_chars: int = 10_000
    max_unzipped_bytes: int = 200 * MB
    max_zip_ratio: int = 200  # spreadsheet XML compresses well, but not a thousandfold
    max_zip_members: int = 500
    max_yaml_nodes: int = 1_000_000  # after expanding every alias


DEFAULT_LIMITS: dict[str, Limits] = {
    "template": Limits(max_bytes=2 * MB, max_rows=5_000, max_unzipped_bytes=40 * MB),
    # A city's survey wave is thousands of respondents; 500,000 leaves room for a province's.
    "respondents": Limits(max_bytes=50 * MB, max_rows=500_000),
    # `kepu literacy estimate` reads an analyst's own file on their machine (not an upload): still
    # bounded, but sized for a national-scale microdata file.
    "analysis": Limits(max_bytes=2048 * MB, max_rows=20_000_000, max_unzipped_bytes=4096 * MB),
    "items": Limits(max_bytes=5 * MB, max_rows=20_000, max_unzipped_bytes=100 * MB),
    "plan": Limits(max_bytes=5 * MB, max_rows=100_000),
    "region": Limits(max_bytes=5 * MB, max_rows=100_000),
    "margins": Limits(max_bytes=2 * MB, max_rows=100_000),
    # Content files and partner feeds (RSS/Atom/JSON) of the outreach catalogue.
    "outreach": Limits(max_bytes=5 * MB, max_rows=2_000),
    # Registry spreadsheets (experts, volunteers, service records, attendees, bases, budgets, awards …).
    "registry": Limits(max_bytes=5 * MB, max_rows=20_000, max_unzipped_bytes=100 * MB),
    # Evidence files (scans, photos, office documents) are stored, not parsed: only their size is bounded here.
    "evidence": Limits(max_bytes=20 * MB, max_rows=0),
}


def limits_for(kind: str) -> Limits:
    """The limits of a kind of file: the defaults above, overridden by ``settings.KEPU_UPLOAD_LIMITS`` where
    Django is in use. The bare `kepu literacy estimate` command does not import Django's settings (0.06 s of
    its start-up) and so reads its file within the defaults."""
    base = DEFAULT_LIMITS[kind]
    conf = sys.modules.get("django.conf")
    override = getattr(conf.settings, "KEPU_UPLOAD_LIMITS", {}).get(kind) if conf is not None else None
    return replace(base, **override) if override else base


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{math.ceil(n / 1024)} KB"


def max_size_label(kind: str) -> str:
    """The size limit of an upload kind, for the page that offers the upload (e.g. "2.0 MB")."""
    return _size(limits_for(kind).max_bytes)


def check_size(size: int, *, name: str, kind: str) -> None:
    lim = limits_for(kind)
    if size > lim.max_bytes:
        raise InputError(
            _("文件 %(name)s 有 %(size)s，超过了 %(limit)s 的上限；请拆分后分批上传。")
            % {"name": name, "size": _size(size), "limit": _size(lim.max_bytes)}
        )


def read_upload(upload: Any, *, kind: str) -> bytes:
    """The bytes of an uploaded file (Django UploadedFile), refused by its size before it is read."""
    name = getattr(upload, "name", None) or "upload"
    check_size(int(upload.size or 0), name=name, kind=kind)
    content: bytes = upload.read(limits_for(kind).max_bytes + 1)
    check_size(len(content), name=name, kind=kind)
    return content


def read_path(path: Path, *, kind: str) -> bytes:
    """The bytes of a file named on the command line, refused by its size before it is read."""
    try:
        check_size(path.stat().st_size, name=path.name, kind=kind)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(_("无法读取文件 %(name)s（%(err)s）。") % {"name": path, "err": exc.strerror or exc}) from exc


def _too_many_rows(name: str, lim: Limits) -> InputError:
    return InputError(
        _("文件 %(name)s 超过 %(limit)s 行的上限；请拆分后分批上传。") % {"name": name, "limit": f"{lim.max_rows:,}"}
    )


def _cell_too_long(name: str, row: int, column: str, lim: Limits) -> InputError:
    return InputError(
        _("%(name)s 第 %(row)s 行 %(col)s 列超过 %(limit)s 个字符的上限。")
        % {"name": name, "row": row, "col": column, "limit": f"{lim.max_cell_chars:,}"}
    )


# -- CSV -------------------------------------------------------------------------------------------


def read_csv(content: bytes, *, name: str, kind: str) -> list[list[str]]:
    """Every row of a UTF-8 CSV as strings; bounded in size, rows and field length."""
    lim = limits_for(kind)
    check_size(len(content), name=name, kind=kind)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(_("%(name)s 不是 UTF-8 编码的文本；请另存为 UTF-8 编码的 CSV。") % {"name": name}) from exc
    reader = csv.reader(io.StringIO(text))
    rows: list[list[str]] = []
    try:
        for row in reader:
            if len(rows) > lim.max_rows:
                raise _too_many_rows(name, lim)
            if len(row) > lim.max_columns:
                raise InputError(
                    _("%(name)s 第 %(row)s 行有 %(n)s 列，超过 %(limit)s 列的上限。")
                    % {"name": name, "row": reader.line_num, "n": len(row), "limit": lim.max_columns}
                )
            for c, field in enumerate(row):
                if len(field) > lim.max_cell_chars:
                    header = rows[0][c] if rows and c < len(rows[0]) else ""
                    raise _cell_too_long(name, reader.line_num, header or str(c + 1), lim)
            rows.append(row)
    except csv.Error as exc:
        # The csv module's own field limit or a NUL byte; it knows only the line it stopped on.
        raise InputError(
            _("%(name)s 第 %(row)s 行无法读取：字段过长或含有非法字符。") % {"name": name, "row": reader.line_num + 1}
        ) from exc
    return rows


# -- XLSX ------------------------------------------------------------------------------------------


def _check_zip(content: bytes, name: str, lim: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise InputError(_("%(name)s 不是 Excel .xlsx 文件。") % {"name": name}) from exc
    total = sum(i.file_size for i in infos)
    packed = [i for i in infos if i.file_size > MB and i.file_size > lim.max_zip_ratio * max(i.compress_size, 1)]
    if len(infos) > lim.max_zip_members or total > lim.max_unzipped_bytes or packed:
        raise InputError(
            _("%(name)s 解压后过大（%(size)s，压缩比异常或部件过多），疑似恶意文件，已拒绝。")
            % {"name": name, "size": _size(total)}
        )


def open_xlsx(content: bytes, *, name: str, kind: str) -> Workbook:
    """A read-only workbook, opened only after the size and zip checks. Close it after use."""
    from openpyxl import load_workbook

    lim = limits_for(kind)
    check_size(len(content), name=name, kind=kind)
    _check_zip(content, name, lim)
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types (KeyError, TypeError…) for a bad file
        raise InputError(
            _("%(name)s 不是有效的 Excel .xlsx 文件，无法读取；请在 Excel 中另存为 .xlsx 后再上传。") % {"name": name}
        ) from exc


def sheet_rows(ws: Any, *, name: str, kind: str) -> list[list[Any]]:
    """Every row of a read-only sheet as values, counting the rows really there."""
    lim = limits_for(kind)
    rows: list[list[Any]] = []
    try:
        ws.reset_dimensions()  # never trust <dimension>: too small drops rows, too large pads them
        for values in _bounded_rows(ws, lim, name):
            rows.append(values)
    except InputError:
        raise
    except Exception as exc:  # a malformed sheet part (bad XML, bad cell reference)
        raise InputError(
            _("%(name)s 不是有效的 Excel .xlsx 文件，无法读取；请在 Excel 中另存为 .xlsx 后再上传。") % {"name": name}
        ) from exc
    return rows


def _bounded_rows(ws: Any, lim: Limits, name: str) -> Iterator[list[Any]]:
    from openpyxl.utils import get_column_letter

    for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if r > lim.max_rows + 1:  # one header row
            raise _too_many_rows(name, lim)
        if len(values) > lim.max_columns:
            raise InputError(
                _("%(name)s 第 %(row)s 行有 %(n)s 列，超过 %(limit)s 列的上限。")
                % {"name": name, "row": r, "n": len(values), "limit": lim.max_columns}
            )
        for c, v in enumerate(values, start=1):
            if isinstance(v, str) and len(v) > lim.max_cell_chars:
                raise _cell_too_long(name, r, get_column_letter(c), lim)
        yield list(values)


def read_xlsx(content: bytes, *, name: str, kind: str, sheets: list[str] | None = None) -> dict[str, list[list[Any]]]:
    """Rows of the named sheets (default: the first sheet) of an uploaded workbook, safely."""
    wb = open_xlsx(content, name=name, kind=kind)
    try:
        wanted = sheets if sheets is not None else wb.sheetnames[:1]
        return {s: sheet_rows(wb[s], name=name, kind=kind) for s in wanted if s in wb.sheetnames}
    finally:
        wb.close()


# -- writing XLSX ------------------------------------------------------------------------------------


def xlsx_bytes(wb: Workbook) -> bytes:
    """Save a workbook with every text cell stored as text: Kepu writes no formulas, so a value a
    person typed such as `=HYPERLINK(…)` stays the string it was and never runs in Excel."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- YAML ------------------------------------------------------------------------------------------


@functools.cache
def _loader() -> type[Any]:
    """SafeLoader that refuses a mapping with the same key twice (made on first use: PyYAML is imported then)."""
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses about ten times faster

    class Loader(base):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # an unhashable key: SafeLoader reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, _("重复的键 %(key)s") % {"key": repr(key)}, key_node.start_mark
                    )
            return super().construct_mapping(node, deep=deep)

    return Loader


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the document with every alias expanded (memoised, so a billion laughs costs little)."""
    import yaml

    memo: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in open_nodes:
            return limit + 1  # an alias inside its own anchor: a structure with no end
        if id(node) in memo:
            return memo[id(node)]
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(n) for n in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(id(node))
        memo[id(node)] = min(total, limit + 1)
        return memo[id(node)]

    return size(root)


def yaml_load(text: str, *, name: str, kind: str) -> Any:
    """A YAML document as Python objects; aliases may not expand it past the limit, and duplicate
    keys are refused. Raises InputError naming the line and column."""
    lim = limits_for(kind)
    check_size(len(text.encode("utf-8")), name=name, kind=kind)
    import yaml

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, lim.max_yaml_nodes) > lim.max_yaml_nodes:
            raise InputError(
                _("%(name)s 中的 YAML 别名（&/*）展开后超过 %(limit)s 个节点，已拒绝。")
                % {"name": name, "limit": f"{lim.max_yaml_nodes:,}"}
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is None:
            raise InputError(_("%(name)s 不是有效的 YAML：%(problem)s") % {"name": name, "problem": problem}) from exc
        raise InputError(
            _("%(name)s 第 %(line)s 行第 %(col)s 列不是有效的 YAML：%(problem)s")
            % {"name": name, "line": mark.line + 1, "col": mark.column + 1, "problem": problem}
        ) from exc
    except RecursionError as exc:
        raise InputError(_("%(name)s 的 YAML 嵌套过深，已拒绝。") % {"name": name}) from exc
    finally:
        loader.dispose()


# -- codes and numbers -----------------------------------------------------------------------------

CODE_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$"
_CODE_RE = re.compile(CODE_PATTERN)


def code_problem(value: object, *, max_length: int) -> str | None:
    """Why a code cannot be used (it appears in page addresses), or None. Codes are slugs: letters,
    digits, `-`, `_` and inner dots (P1.1.2), so `cz/2027` or `../x` can never break a URL."""
    text = str(value) if value is not None else ""
    if len(text) > max_length:
        return _("代码最长 %(n)s 个字符，现在有 %(len)s 个。") % {"n": max_length, "len": len(text)}
    if not _CODE_RE.match(text):
        return _("代码只能包含英文字母、数字、“-”“_”和中间的“.”，得到 %(v)s。") % {"v": repr(text)[:80]}
    return None


def text_problem(value: object, *, max_length: int) -> str | None:
    """Why a name or other text does not fit its column, or None (checked before the database,
    which would truncate on SQLite and fail on PostgreSQL)."""
    if isinstance(value, str) and len(value) > max_length:
        return _("最长 %(n)s 个字符，现在有 %(len)s 个。") % {"n": max_length, "len": len(value)}
    return None


ABSURD = 1e15  # no count, rate or amount Kepu records comes near this


def number_problem(value: object) -> str | None:
    """Why a number cannot be stored (inf, nan, or absurdly large such as 1e308), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return _("需要有限的数值，得到 %(v)s。") % {"v": value}
    if abs(value) > ABSURD:
        shown = f"{value:g}" if isinstance(value, float) else f"{str(value)[:12]}…"  # an int may not fit a float
        return _("数值 %(v)s 超出合理范围（绝对值不超过 10¹⁵）。") % {"v": shown}
    return None
