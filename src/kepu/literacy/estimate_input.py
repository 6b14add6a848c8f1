"""Reading the input of `kepu literacy estimate`: the design, weight, outcome and domain columns of the
respondent CSV and the margins files, converted in bulk (`kepu.core.csv_columns`), with each error naming
the file, and the row and column of the first bad value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kepu.core.csv_columns import Columns, Typed, read_columns, read_header, read_typed
from kepu.core.errors import InputError
from kepu.stats import raking, survey


class EstimateError(ValueError):
    """A problem with the input, phrased for the person running the command."""


@dataclass(frozen=True)
class EstimateInput:
    n: int
    outcome: np.ndarray  # 0/1
    weight: np.ndarray  # > 0
    strata: survey.Factor
    psu: survey.Factor
    groups: dict[str, survey.Factor]  # --by column -> its levels
    margins: list[raking.Margin]  # one per --rake file

    @staticmethod
    def labels(factor: survey.Factor) -> np.ndarray:
        """The label of every respondent (for code that wants plain arrays)."""
        return np.asarray(factor.labels[factor.codes])


def _read(path: Path, kind: str, columns: list[str] | None = None) -> Columns:
    try:
        return read_columns(path, name=path.name, kind=kind, columns=columns)
    except InputError as exc:
        raise EstimateError(str(exc)) from exc


def _numbers(table: Columns, column: str) -> np.ndarray:
    try:
        return table.numbers(column)
    except InputError as exc:
        raise EstimateError(str(exc)) from exc


def _factor(table: Columns, column: str, what: str, path: Path) -> survey.Factor:
    blank = table.first_blank(column)
    if blank is not None:
        raise EstimateError(f"{path}: row {table.row(blank)}, column {column}: empty (every respondent needs a {what})")
    labels, codes = table.factor(column)
    return survey.Factor(labels, codes)


def read_input(
    path: Path, *, strata: str, psu: str, weight: str, outcome: str, by: list[str], rake: list[Path]
) -> EstimateInput:
    """The columns the estimate needs (only those are read, once), checked: outcome 0/1, weights positive, no
    blank stratum, PSU or domain label; and the margins files (``rake``) matched to the data's categories."""
    header = _header(path)
    for col, what in ((outcome, "outcome"), (weight, "weight"), (strata, "strata"), (psu, "PSU")):
        _need(header, col, what, path)
    for col in by:
        _need(header, col, "--by variable", path)
    margin_files = [_margin_file(p, header, path) for p in rake]
    cats = [c for m in margin_files for c in m[0]]
    fast = _read_fast(path, strata=strata, psu=psu, weight=weight, outcome=outcome, by=by, cats=cats)
    if fast is not None:
        return EstimateInput(
            n=fast.n,
            outcome=fast.numbers[outcome],
            weight=fast.numbers[weight],
            strata=survey.Factor(*fast.factor(strata)),
            psu=survey.Factor(*fast.factor(psu)),
            groups={col: survey.Factor(*fast.factor(col)) for col in by},
            margins=[_margin(p, c, totals, fast) for p, (c, totals) in zip(rake, margin_files, strict=True)],
        )
    table = _read(path, "analysis", [strata, psu, weight, outcome, *by, *cats])
    if table.n == 0:
        raise EstimateError(f"{path}: needs a header row and at least one data row")
    y = _numbers(table, outcome)
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        raise EstimateError(
            f"{path}: row {table.row(int(bad[0]))}, column {outcome}: the outcome must be 0 or 1, "
            f"got {table.data[outcome][int(bad[0])].as_py()!r}"
        )
    w = _numbers(table, weight)
    nonpos = np.flatnonzero(w <= 0)
    if nonpos.size:
        raise EstimateError(
            f"{path}: row {table.row(int(nonpos[0]))}, column {weight}: weights must be positive, "
            f"got {table.data[weight][int(nonpos[0])].as_py()!r}"
        )
    return EstimateInput(
        n=table.n,
        outcome=y,
        weight=w,
        strata=_factor(table, strata, "stratum", path),
        psu=_factor(table, psu, "PSU", path),
        groups={col: _factor(table, col, "domain label", path) for col in by},
        margins=[_margin(p, c, totals, table) for p, (c, totals) in zip(rake, margin_files, strict=True)],
    )


def _read_fast(
    path: Path, *, strata: str, psu: str, weight: str, outcome: str, by: list[str], cats: list[str]
) -> Typed | None:
    """The typed fast path (Arrow parses the outcome and weight as floats; labels are factorized on their
    distinct values), or None when anything is amiss: then the text path above reads the file again and names
    the first bad value by row and column. It takes only files it checks completely (outcome 0/1, weights > 0)."""
    labels = [strata, psu, *by, *cats]
    fast = read_typed(path, name=path.name, kind="analysis", numbers=[outcome, weight], labels=labels)
    if fast is None or fast.n == 0:
        return None
    y, w = fast.numbers[outcome], fast.numbers[weight]
    if not (((y == 0) | (y == 1)).all() and (w > 0).all()):
        return None
    return fast


def _header(path: Path) -> list[str]:
    try:
        return read_header(path, name=path.name, kind="analysis")
    except InputError as exc:
        raise EstimateError(str(exc)) from exc


def _need(header: list[str], col: str, what: str, path: Path) -> None:
    if col not in header:
        raise EstimateError(f"{path}: no column {col!r} (the {what}); columns are: {', '.join(header)}")


def _margin_file(path: Path, data_header: list[str], data_path: Path) -> tuple[list[str], dict[str, float]]:
    """A margins file: one or more category columns (joint cells) and a final `population` column."""
    m = _read(path, "margins")
    if len(m.header) < 2 or m.header[-1] != "population":
        raise EstimateError(f"{path}: expected category column(s) followed by a final 'population' column")
    cats = m.header[:-1]
    for c in cats:
        _need(data_header, c, f"margin category from {path.name}", data_path)
    pops = _numbers(m, "population")
    if (pops <= 0).any():
        raise EstimateError(f"{path}: population totals must be positive")
    labels = ["|".join(parts) for parts in zip(*(m.text(c) for c in cats), strict=True)]
    if len(set(labels)) != len(labels):
        raise EstimateError(f"{path}: a category appears twice")
    return cats, dict(zip(labels, pops.tolist(), strict=True))


def _margin(path: Path, cats: list[str], totals: dict[str, float], table: Columns | Typed) -> raking.Margin:
    data_labels = _joint_labels(table, cats)
    in_data = set(np.unique(data_labels).tolist())
    missing = sorted(in_data - set(totals))
    if missing:
        raise EstimateError(f"{path}: categories {', '.join(missing)} occur in the data but have no population total")
    absent = sorted(set(totals) - in_data)
    if absent:
        raise EstimateError(f"{path}: categories {', '.join(absent)} have a population total but no respondents")
    return raking.Margin(column="|".join(cats), categories=data_labels, totals=totals)


def _joint_labels(table: Columns | Typed, cats: list[str]) -> np.ndarray:
    """Each respondent's joint category "a|b|…" of the margin's columns, built on the distinct combinations only."""
    factors = [table.factor(c) for c in cats]
    key = np.zeros(table.n, dtype=np.int64)
    for labels, codes in factors:
        key = key * labels.shape[0] + codes
    combos, inverse = np.unique(key, return_inverse=True)
    parts = []
    for labels, _codes in reversed(factors):
        parts.append(labels[combos % labels.shape[0]])
        combos = combos // labels.shape[0]
    joined = np.array(["|".join(p) for p in zip(*reversed(parts), strict=True)], dtype=str)
    return np.asarray(joined[inverse.reshape(-1)])
