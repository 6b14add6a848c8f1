"""The typed fast path of the CSV reader (kepu.core.csv_columns.read_typed): it gives what the text path gives
for a well-formed file, and declines (None) every file whose problem the text path must name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kepu.core.csv_columns import read_columns, read_typed
from kepu.literacy import estimate_input


def typed(tmp_path: Path, content: bytes, **kw: Any) -> Any:
    f = tmp_path / "t.csv"
    f.write_bytes(content)
    return read_typed(f, name=f.name, kind="analysis", numbers=kw.get("numbers", ["w", "y"]), labels=["s", "p"])


GOOD = b's,p,w,y,note\n" b",1, 2.5 ,1,"x, ""y""\nz"\na,10,"3",0,\nb ,2,1e2,1,x\na,1,0.5,0,x\n'


def test_a_good_file_reads_as_the_text_path_reads_it(tmp_path: Path) -> None:
    fast = typed(tmp_path, GOOD)
    assert fast is not None and fast.n == 4
    slow = read_columns(tmp_path / "t.csv", name="t.csv", kind="analysis", columns=["s", "p", "w", "y"])
    for c in ("w", "y"):
        assert fast.numbers[c].tolist() == slow.numbers(c).tolist()
    for c in ("s", "p"):
        labels, codes = fast.factor(c)
        slow_labels, slow_codes = slow.factor(c)
        assert labels.tolist() == slow_labels.tolist()  # labels trimmed: " b" and "b " are one label
        assert np.array_equal(codes, slow_codes)
    assert fast.factor("s")[0].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "content",
    [
        b"s,p,w,y\na,1,x,1\n",  # not a number
        b"s,p,w,y\na,1,,1\n",  # empty number
        b"s,p,w,y\na,1,inf,1\n",  # not finite
        b"s,p,w,y\na,1,1,1\n,,,\n",  # a blank row (the text path skips it and numbers rows as a spreadsheet)
        b"s,p,w,y\n ,1,1,1\n",  # a blank label
        b"s,p,w,y\na,1,1,1\nb,2,1\n",  # ragged
        "s,p,w,y\n甲,1,1,1\n".encode("gb18030"),  # GBK
        b"s,p,w,y\n",  # no data rows
        b"s,p,w\na,1,1\n",  # a column missing
        b"s,p,w,y\n" + b"a" * 10_001 + b",1,1,1\n",  # a label over the cell limit
    ],
)
def test_anything_amiss_is_left_to_the_text_path(tmp_path: Path, content: bytes) -> None:
    assert typed(tmp_path, content) is None


def test_more_rows_than_allowed_is_left_to_the_text_path(tmp_path: Path, settings: Any) -> None:
    settings.KEPU_UPLOAD_LIMITS = {"analysis": {"max_rows": 2}}
    assert typed(tmp_path, GOOD) is None


def test_the_estimate_takes_the_fast_path_and_falls_back_for_a_bad_outcome(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("s,p,w,y\na,1,1,1\na,2,2,0\n")
    kw: dict[str, Any] = {"strata": "s", "psu": "p", "weight": "w", "outcome": "y", "by": ["s"], "rake": []}
    assert estimate_input._read_fast(f, strata="s", psu="p", weight="w", outcome="y", by=["s"], cats=[]) is not None
    data = estimate_input.read_input(f, **kw)
    assert data.weight.tolist() == [1.0, 2.0] and data.labels(data.psu).tolist() == ["1", "2"]
    f.write_text("s,p,w,y\na,1,1,1\na,2,2,2\n")  # well-formed, but the outcome is not 0/1: the text path says where
    with pytest.raises(estimate_input.EstimateError, match="row 3, column y: the outcome must be 0 or 1, got '2'"):
        estimate_input.read_input(f, **kw)


def _kepu(*args: str) -> Any:
    """The `kepu` command in a fresh process; also says whether Django was imported."""
    import subprocess
    import sys

    code = (
        "import sys; from kepu.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "finally:\n    print('DJANGO' if 'django' in sys.modules else 'NODJANGO', file=sys.stderr)"
    )
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)


def test_the_bare_command_runs_without_django_and_prints_what_the_management_command_prints(tmp_path: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    f = tmp_path / "d.csv"
    f.write_text("s,p,w,y,d\na,1,1,1,x\na,2,2,0,y\nb,3,1,0,x\nb,4,3,1,y\n")
    args = ["literacy", "estimate", str(f), "--strata", "s", "--psu", "p", "--weight", "w", "--outcome", "y"]
    for extra in (["--by", "d", "--json"], ["--by", "d"]):
        done = _kepu(*args, *extra)
        out = StringIO()
        call_command(*args, *extra, stdout=out)
        assert done.returncode == 0 and done.stdout == out.getvalue()
        assert done.stderr.strip() == "NODJANGO"
    bad = _kepu(*args[:-1], "d")  # the outcome column holds labels: named by row and column, exit status 1
    assert bad.returncode == 1
    assert "CommandError: " in bad.stderr and "第 2 行 d 列" in bad.stderr
