"""Reading the columns of a CSV file in bulk, with pyarrow's streaming CSV reader.

Why pyarrow (and not polars or the csv module): the csv module hands Python one string per field, and
converting a million rows one float at a time took most of `kepu literacy estimate`'s 20 s. pyarrow's CSV
reader is a reader and converter, not a second dataframe engine beside numpy: it parses in C++ into typed
columns that become numpy arrays without a copy, streams a file in blocks (so a file's rows are counted
and bounded while it is read, and a 2 GB file is never held as Python objects), reads only the columns
asked for, transcodes GBK, handles quoted fields (commas, quotes and line breaks inside) and tells which
row is ragged. Every column is read as text and converted here in bulk, so a bad value is still named by
row and column: the conversion of the whole column fails, and bisecting it with the same conversion finds
the first offending row exactly.

Rows are numbered as in a spreadsheet: the header is row 1, the first data row is row 2. Rows whose read
fields are all blank are skipped (Excel writes them as ",,,"). Sizes, rows, columns and field lengths are
bounded by `kepu.core.uploads` limits of the file's kind. Messages are for people (Chinese source text)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kepu.core.errors import InputError
from kepu.core.uploads import Limits, _, _cell_too_long, _too_many_rows, check_size, limits_for

SNIFF_BYTES = 64 * 1024  # enough for the header and to tell UTF-8 from GBK
BLOCK_BYTES = 4 * 1024 * 1024  # one row may be this long at most
UTF8, GBK = "utf8", "gb18030"  # GB18030 is a superset of GBK (what Excel in Chinese saves as "CSV")


@dataclass(frozen=True)
class Columns:
    """The text of a CSV file's columns (stripped of surrounding white space), with conversions in bulk."""

    name: str
    header: list[str]
    n: int
    data: dict[str, pa.Array]
    rows: np.ndarray | None = field(default=None)  # spreadsheet row of each record when blank rows were skipped
    encoding: str = UTF8

    def row(self, i: int) -> int:
        """The spreadsheet row number (header = 1) of record ``i``."""
        return int(self.rows[i]) if self.rows is not None else i + 2

    def text(self, column: str) -> list[str]:
        return [str(v) for v in self.data[column].to_pylist()]

    def numbers(self, column: str) -> np.ndarray:
        """The column as floats; the first value that is not a finite number is named by row and column."""
        arr = self.data[column]
        try:
            out = _numpy(pc.cast(arr, pa.float64()), np.float64)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            i = _first_unparsable(arr)
            raise InputError(
                _("%(name)s 第 %(row)s 行 %(col)s 列：应为数值，实际为“%(got)s”。")
                % {"name": self.name, "row": self.row(i), "col": column, "got": arr[i].as_py()}
            ) from None
        bad = ~np.isfinite(out)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                _("%(name)s 第 %(row)s 行 %(col)s 列：应为有限的数值，实际为“%(got)s”。")
                % {"name": self.name, "row": self.row(i), "col": column, "got": arr[i].as_py()}
            )
        return out

    def factor(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted distinct labels and the code of each value (as ``np.unique(return_inverse=True)``), found
        by dictionary-encoding the column: only the distinct labels are sorted."""
        encoded = pc.dictionary_encode(self.data[column])
        labels = np.asarray(encoded.dictionary.to_pylist(), dtype=str)
        order = np.argsort(labels, kind="stable")
        rank = np.empty(order.shape[0], dtype=np.intp)
        rank[order] = np.arange(order.shape[0])
        codes = rank[_numpy(encoded.indices, np.int32)]
        return labels[order], codes

    def first_blank(self, column: str) -> int | None:
        """The record index of the first empty value of a column, or None."""
        blank = _numpy(pc.utf8_length(self.data[column]), np.int32) == 0
        return int(np.argmax(blank)) if blank.any() else None


def _numpy(arr: pa.Array, dtype: Any) -> np.ndarray:
    """A fixed-width Arrow array without nulls as a numpy view of its buffer. (pyarrow's own to_numpy imports
    pandas, which would add 0.4 s to the start-up of `kepu literacy estimate`.)"""
    size = np.dtype(dtype).itemsize
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * size)


def _first_unparsable(arr: pa.Array) -> int:
    """Index of the first value that does not convert to a float, by bisecting with the bulk conversion."""
    lo, hi = 0, len(arr)  # arr[lo:hi] holds the first failure
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pc.cast(arr.slice(lo, mid - lo), pa.float64())
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    return lo


def _sniff(head: bytes, name: str) -> tuple[str, list[str]]:
    """The encoding (UTF-8, with or without BOM, or GBK) and the header row, from the file's first bytes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < SNIFF_BYTES)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(
            _("%(name)s 既不是 UTF-8 也不是 GBK 编码的文本；请另存为 UTF-8 编码的 CSV。") % {"name": name}
        )
    header = next(csv.reader(io.StringIO(text)), None)
    if not header or not any(h.strip() for h in header):
        raise InputError(_("%(name)s 是空文件：需要表头行和数据行。") % {"name": name})
    return (UTF8 if encoding == "utf-8-sig" else GBK), [h.strip() for h in header]


def read_header(source: Path | bytes, *, name: str, kind: str) -> list[str]:
    """The header row of a CSV file (its size checked, only its first bytes read)."""
    return _head(source, name=name, kind=kind)[1]


def _head(source: Path | bytes, *, name: str, kind: str) -> tuple[str, list[str]]:
    if isinstance(source, Path):
        try:
            check_size(source.stat().st_size, name=name, kind=kind)
            with source.open("rb") as fh:
                head = fh.read(SNIFF_BYTES)
        except OSError as exc:
            raise InputError(
                _("无法读取文件 %(name)s（%(err)s）。") % {"name": source, "err": exc.strerror or exc}
            ) from exc
    else:
        check_size(len(source), name=name, kind=kind)
        head = source[:SNIFF_BYTES]
    return _sniff(head, name)


def read_columns(
    source: Path | bytes, *, name: str, kind: str, columns: Sequence[str] | None = None
) -> Columns:
    """The named columns (default: all) of a CSV file as text. The size is checked before anything is read;
    rows are counted while the file streams. Raises InputError for a column not in the header."""
    lim = limits_for(kind)
    encoding, header = _head(source, name=name, kind=kind)
    if len(header) > lim.max_columns:
        raise InputError(
            _("%(name)s 第 %(row)s 行有 %(n)s 列，超过 %(limit)s 列的上限。")
            % {"name": name, "row": 1, "n": len(header), "limit": lim.max_columns}
        )
    wanted = list(dict.fromkeys(header if columns is None else columns))
    if not wanted:
        raise ValueError("read_columns needs at least one column")  # Arrow would read them all
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputError(
            _("%(name)s 中没有列 %(cols)s；现有的列：%(header)s")
            % {"name": name, "cols": ", ".join(missing), "header": ", ".join(header)}
        )
    position = {c: f"c{header.index(c)}" for c in wanted}  # the first column of a name, as the csv module's users did
    try:
        table = _stream(source, name, encoding, header, list(position.values()), lim)
    except _NotUtf8:
        encoding = GBK
        table = _stream(source, name, encoding, header, list(position.values()), lim)
    data = {c: pc.utf8_trim_whitespace(table.column(p).combine_chunks()) for c, p in position.items()}
    rows = None
    if data and table.num_rows:
        filled = [pc.cast(pc.utf8_length(a), pa.bool_()) for a in data.values()]
        keep = filled[0]
        for more in filled[1:]:
            keep = pc.or_(keep, more)
        if not pc.all(keep).as_py():
            rows = np.flatnonzero(_numpy(pc.cast(keep, pa.int8()), np.int8)) + 2
            data = {c: a.filter(keep) for c, a in data.items()}
    n = len(next(iter(data.values()))) if data else table.num_rows
    return Columns(name=name, header=header, n=n, data=data, rows=rows, encoding=encoding)


@dataclass(frozen=True)
class Typed:
    """Columns parsed by Arrow straight to their types (see :func:`read_typed`): floats and factorized labels."""

    n: int
    numbers: dict[str, np.ndarray]
    factors: dict[str, tuple[np.ndarray, np.ndarray]]

    def factor(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self.factors[column]


def read_typed(path: Path, *, name: str, kind: str, numbers: Sequence[str], labels: Sequence[str]) -> Typed | None:
    """The fast path of a well-formed file: Arrow parses the ``numbers`` columns to float64 itself (no text
    column is built for them) and the ``labels`` columns are factorized on their distinct values only.

    Returns None whenever the file is not plainly good (not UTF-8, a column missing, a ragged row, a value that
    is not a finite number, an empty number or label, a blank row, a label over the length limit, more rows
    than allowed, any read error): the caller then reads it with :func:`read_columns`, whose checks name the
    file, row and column of the first problem. A number cell is bounded by the block size here, not by
    ``max_cell_chars`` (it becomes 8 bytes whatever its length)."""
    numbers, labels = list(dict.fromkeys(numbers)), list(dict.fromkeys(labels))
    if (not numbers and not labels) or set(numbers) & set(labels):
        return None
    lim = limits_for(kind)
    encoding, header = _head(path, name=name, kind=kind)
    wanted = numbers + labels
    names = [f"c{i}" for i in range(len(header))]
    if encoding != UTF8 or len(header) > lim.max_columns or any(c not in header for c in wanted):
        return None
    position = {c: f"c{header.index(c)}" for c in wanted}
    types = {position[c]: pa.float64() for c in numbers} | {position[c]: pa.string() for c in labels}
    chunks: dict[str, list[pa.Array]] = {c: [] for c in wanted}
    count = 0
    try:
        reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=BLOCK_BYTES, skip_rows=1, column_names=names
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda row: "error"),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(types),
                column_types=types,
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            count += batch.num_rows
            if count > lim.max_rows:
                return None
            for c in wanted:
                chunks[c].append(batch.column(position[c]))
    except (pa.ArrowException, UnicodeDecodeError, OSError):
        return None
    if count == 0:
        return None
    out_numbers: dict[str, np.ndarray] = {}
    for c in numbers:
        arr = pa.chunked_array(chunks[c], pa.float64()).combine_chunks()
        if arr.null_count:
            return None
        values = _numpy(arr, np.float64)
        if not np.isfinite(values).all():
            return None
        out_numbers[c] = values
    factors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for c in labels:
        found = _factor_text(pa.chunked_array(chunks[c], pa.string()), lim.max_cell_chars)
        if found is None:
            return None
        factors[c] = found
    return Typed(n=count, numbers=out_numbers, factors=factors)


def _factor_text(column: pa.ChunkedArray, max_chars: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted distinct labels (stripped of surrounding white space) and the code of each value, from the
    dictionary of each chunk; None for an empty label or one longer than ``max_chars``."""
    dictionaries, indices = [], []
    for chunk in column.chunks:
        encoded = pc.dictionary_encode(chunk)
        dictionary = encoded.dictionary
        if len(dictionary) and pc.max(pc.utf8_length(dictionary)).as_py() > max_chars:
            return None
        dictionaries.append(np.asarray(pc.utf8_trim_whitespace(dictionary).to_pylist(), dtype=str))
        indices.append(_numpy(encoded.indices, np.int32))
    if not dictionaries:
        return np.asarray([], dtype=str), np.zeros(0, dtype=np.intp)
    labels, inverse = np.unique(np.concatenate(dictionaries), return_inverse=True)
    if labels.size and labels[0] == "":
        return None
    codes = np.empty(sum(len(i) for i in indices), dtype=np.intp)
    start = offset = 0
    for dictionary, index in zip(dictionaries, indices, strict=True):
        codes[start : start + len(index)] = inverse[offset : offset + len(dictionary)][index]
        start, offset = start + len(index), offset + len(dictionary)
    return labels, codes


class _NotUtf8(Exception):
    """A file that looked like UTF-8 at its start has other bytes further on (then it is read as GBK)."""


def _stream(
    source: Path | bytes, name: str, encoding: str, header: list[str], wanted: list[str], lim: Limits
) -> pa.Table:
    ragged: list[Any] = []

    def on_ragged(row: Any) -> str:
        ragged.append(row)
        return "error"

    names = [f"c{i}" for i in range(len(header))]
    reader_input: Any = str(source) if isinstance(source, Path) else pa.BufferReader(source)
    batches: list[pa.RecordBatch] = []
    count = 0
    try:
        reader = pacsv.open_csv(
            reader_input,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=BLOCK_BYTES, skip_rows=1, column_names=names, encoding=encoding
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_ragged),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types=dict.fromkeys(wanted, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            count += batch.num_rows
            if count > lim.max_rows:
                raise _too_many_rows(name, lim)
            for i, column in enumerate(batch.columns):
                lengths = pc.utf8_length(column)
                longest = pc.max(lengths).as_py()
                if longest is not None and longest > lim.max_cell_chars:
                    at = int(np.argmax(_numpy(lengths, np.int32) > lim.max_cell_chars))
                    column_name = header[int(batch.schema.names[i][1:])]
                    raise _cell_too_long(name, count - batch.num_rows + at + 2, column_name, lim)
            batches.append(batch)
    except pa.ArrowInvalid as exc:
        if ragged:
            row = ragged[0]
            raise InputError(
                _("%(name)s 第 %(row)s 行有 %(n)s 个字段，而表头有 %(m)s 个。")
                % {"name": name, "row": row.number or count + 2, "n": row.actual_columns, "m": row.expected_columns}
            ) from None
        text = str(exc)
        if "UTF8" in text and encoding == UTF8:
            raise _NotUtf8 from None
        if "straddl" in text:  # a row longer than a block: a runaway quote or not a CSV file at all
            raise InputError(
                _("%(name)s 第 %(row)s 行无法读取：字段过长或含有非法字符。") % {"name": name, "row": count + 2}
            ) from None
        raise InputError(_("%(name)s 无法作为 CSV 文件读取：%(err)s") % {"name": name, "err": text}) from None
    except UnicodeDecodeError:
        raise InputError(
            _("%(name)s 既不是 UTF-8 也不是 GBK 编码的文本；请另存为 UTF-8 编码的 CSV。") % {"name": name}
        ) from None
    schema = pa.schema([(c, pa.string()) for c in wanted])
    return pa.Table.from_batches(batches, schema=schema)
