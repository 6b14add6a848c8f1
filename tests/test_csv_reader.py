"""The columnar CSV reader (kepu.core.csv_columns) and the bad files people really send: a BOM, GBK from
Excel, quoted commas and line breaks, ragged rows, bad numbers, a 2 GB file, too many rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kepu.core.csv_columns import read_columns, read_header
from kepu.core.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def english(settings: Any) -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


def read(content: bytes, columns: list[str] | None = None, kind: str = "analysis") -> Any:
    return read_columns(content, name="r.csv", kind=kind, columns=columns)


def test_a_utf8_bom_is_not_part_of_the_first_column_name() -> None:
    cols = read(b"\xef\xbb\xbfstratum,w\nA,1.5\n")
    assert cols.header == ["stratum", "w"]
    assert cols.text("stratum") == ["A"]
    assert cols.numbers("w").tolist() == [1.5]


def test_gbk_from_excel_is_read() -> None:
    content = "区,权重\n武进区,2\n新北区,3\n".encode("gbk")
    cols = read(content)
    assert cols.encoding == "gb18030"
    assert cols.header == ["区", "权重"]
    assert cols.text("区") == ["武进区", "新北区"]


def test_gbk_that_starts_after_a_long_ascii_head_is_still_read() -> None:
    # The encoding is sniffed from the first 64 KB; a GBK byte further on switches the reader to GBK.
    content = ("d,w\n" + "x,1\n" * 40_000 + "武进区,2\n").encode("gbk")
    cols = read(content)
    assert cols.encoding == "gb18030" and cols.n == 40_001 and cols.text("d")[-1] == "武进区"


def test_a_file_in_neither_utf8_nor_gbk_is_refused_with_the_expected_encoding() -> None:
    with pytest.raises(InputError, match=r"r\.csv is neither UTF-8 nor GBK text; save it as a UTF-8 CSV"):
        read(b"d,w\n\xff\xfe\xfa,1\n")


def test_quoted_fields_keep_their_commas_quotes_and_line_breaks() -> None:
    content = b'name,w\n"Changzhou, Wujin",1\n"say ""hi""\nthere",2\nplain,x\n'
    cols = read(content)
    assert cols.text("name") == ["Changzhou, Wujin", 'say "hi"\nthere', "plain"]
    # rows are records, as a spreadsheet shows them: the third record is row 4 although it starts on line 5
    with pytest.raises(InputError, match=r"r\.csv: row 4, column w: expected a number, got “x”\."):
        cols.numbers("w")


def test_a_ragged_row_is_named() -> None:
    with pytest.raises(InputError, match=r"r\.csv: row 4 has 1 fields but the header has 2\."):
        read(b"a,b\n1,2\n3,4\n5\n6,7\n")
    with pytest.raises(InputError, match=r"r\.csv: row 3 has 3 fields but the header has 2\."):
        read(b"a,b\n1,2\n3,4,5\n")


def test_the_first_bad_number_is_named_by_row_and_column_after_blank_rows() -> None:
    rows = ["1.5"] * 5000 + ["", "2", "abc", "oops"]
    content = ("a,w\n" + "".join(f"x,{v}\n" for v in rows[:5000]) + ",\n\n" + "x,2\nx,abc\nx,oops\n").encode()
    cols = read(content)
    assert cols.n == 5003  # the blank row ",", and the empty line, are skipped
    with pytest.raises(InputError, match=r"r\.csv: row 5004, column w: expected a number, got “abc”\."):
        cols.numbers("w")


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(InputError, match=r"row 3, column w: expected a finite number, got “inf”"):
        read(b"w\n1\ninf\n").numbers("w")


def test_bulk_conversion_equals_python_float() -> None:
    values = ["1", "-2.5", "1e3", "+4", ".5", "0.1", " 7 ", "123456789.123456789"]
    cols = read(("w\n" + "\n".join(values) + "\n").encode())
    assert cols.numbers("w").tolist() == [float(v) for v in values]


def test_factor_is_np_unique() -> None:
    rng = np.random.default_rng(1)
    labels = rng.choice(["10", "2", "b", "A", "武进"], 1000)
    cols = read(("g\n" + "\n".join(labels) + "\n").encode())
    got_labels, got_codes = cols.factor("g")
    want_labels, want_codes = np.unique(labels, return_inverse=True)
    assert got_labels.tolist() == want_labels.tolist()
    assert got_codes.tolist() == want_codes.tolist()


def test_only_the_asked_columns_are_read_and_a_missing_one_is_named() -> None:
    cols = read(b"a,b,c\n1,2,3\n", columns=["c", "a"])
    assert set(cols.data) == {"c", "a"}
    with pytest.raises(InputError, match=r"r\.csv has no column zone; its columns are: a, b, c"):
        read(b"a,b,c\n1,2,3\n", columns=["zone"])


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InputError, match=r"r\.csv is empty"):
        read(b"")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # A sparse 2 GB + 1 MB file: nothing is read (it would be 2 GB of NUL bytes).
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n")
    os.truncate(path, 2049 * 1024 * 1024)
    with pytest.raises(InputError, match=r"big\.csv is 2049\.0 MB, above the limit of 2048\.0 MB"):
        read_header(path, name=path.name, kind="analysis")


def test_a_2gb_file_within_the_limit_streams_and_a_runaway_row_fails_fast(tmp_path: Path) -> None:
    # A sparse file of exactly 2 GB (the analysis limit): a header, then 2 GB of NUL bytes and no line break.
    # The reader streams it in blocks and stops at the first block, never holding the file in memory.
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n")
    os.truncate(path, 2048 * 1024 * 1024)
    with pytest.raises(InputError, match=r"big\.csv: row 2 cannot be read: a field is too long"):
        read_columns(path, name=path.name, kind="analysis", columns=["a"])


def test_rows_are_counted_while_streaming(settings: Any) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"analysis": {"max_rows": 100}}
    with pytest.raises(InputError, match=r"r\.csv has more than the limit of 100 rows"):
        read(("a\n" + "1\n" * 101).encode())
    assert read(("a\n" + "1\n" * 100).encode()).n == 100


def test_a_field_over_the_length_limit_names_row_and_column() -> None:
    with pytest.raises(InputError, match=r"r\.csv: row 3, column b is longer than the limit of 10,000 characters"):
        read(("a,b\n1,2\n1," + "x" * 10_001 + "\n").encode())


# -- the command, in a fresh process (the path that skips Django's app loading) ------------------------


def kepu(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KEPU_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "kepu.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def sample(path: Path, encoding: str = "utf-8", bom: bool = False) -> Path:
    rows = ["层,psu,w,y,区"]
    for h, d in (("甲", "武进区"), ("乙", "新北区")):
        for p in (1, 2, 3):
            rows += [f"{h},{p},{1 + (p + k) % 3},{(p * k) % 2},{d}" for k in range(6)]
    data = ("\n".join(rows) + "\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


ARGS = ["--strata", "层", "--psu", "psu", "--weight", "w", "--outcome", "y", "--by", "区", "--json"]


def test_the_command_reads_bom_and_gbk_files_alike(tmp_path: Path) -> None:
    plain = kepu("literacy", "estimate", str(sample(tmp_path / "u.csv")), *ARGS, tmp_path=tmp_path)
    assert plain.returncode == 0, plain.stderr
    bom = kepu("literacy", "estimate", str(sample(tmp_path / "b.csv", bom=True)), *ARGS, tmp_path=tmp_path)
    gbk = kepu("literacy", "estimate", str(sample(tmp_path / "g.csv", "gbk")), *ARGS, tmp_path=tmp_path)
    result = json.loads(plain.stdout)
    assert result["n"] == 36 and set(result["by"]["区"]) == {"武进区", "新北区"}
    assert json.loads(bom.stdout) == result == json.loads(gbk.stdout)


def test_the_command_names_the_row_and_column_of_a_bad_value(tmp_path: Path) -> None:
    f = sample(tmp_path / "u.csv")
    lines = f.read_text().splitlines()
    lines[5] = "甲,1,x,0,武进区"
    f.write_text("\n".join(lines) + "\n")
    r = kepu("literacy", "estimate", str(f), *ARGS, tmp_path=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    # the command runs without the translation catalogue: messages in the source language (Chinese)
    assert "u.csv 第 6 行 w 列：应为数值，实际为“x”。" in r.stderr
    ragged = tmp_path / "r.csv"
    ragged.write_text("层,psu,w,y,区\n甲,1,1,0,武进区\n甲,2,1\n")
    r = kepu("literacy", "estimate", str(ragged), *ARGS, tmp_path=tmp_path)
    assert "r.csv 第 3 行有 3 个字段，而表头有 5 个。" in r.stderr
