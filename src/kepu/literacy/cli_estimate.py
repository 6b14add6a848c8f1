"""`kepu literacy estimate`: design-based estimates from a respondent-level CSV, for scripts.

Pure statistics over a file (no database): reads the CSV, optionally rakes to margin files, and
prints one JSON object {"n", "overall", "by", "raked"} or a readable table.

The JSON is strict (no NaN/Infinity): an undefined quantity is null and the estimate's ``flags`` say why."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kepu.core.errors import InputError
from kepu.core.strict_json import finite
from kepu.core.uploads import read_path
from kepu.literacy.tables import read_table
from kepu.stats import presentation, raking, replicate, survey

VARIANCE_CHOICES = ("taylor", "jkn")  # `kepu literacy estimate --variance`


def estimate_json(e: survey.Estimate) -> dict[str, Any]:
    """``e.as_dict()`` plus ``ci_kg_low``, ``ci_kg_high`` (Korn–Graubard), ``df`` (integer), ``n_eff``,
    ``presentable`` and ``flags``, each undefined (non-finite) number as None. ``flags``: first one
    ``"<field>_undefined_<reason>"`` for each such field (ci_low/ci_high as "ci", the logit pair as "ci_logit", the
    Korn–Graubard pair as "ci_kg"), then the flags of the NCHS presentation standard
    (:func:`kepu.stats.presentation.assess`: ``suppress_*`` when ``presentable`` is false, ``review_*``)."""
    d: dict[str, Any] = dict(e.as_dict())
    d.update(ci_kg_low=e.ci_kg_low, ci_kg_high=e.ci_kg_high, df=e.df, n_eff=e.n_eff)
    flags: list[str] = []

    def undefined(keys: tuple[str, ...], name: str, reason: str) -> None:
        if any(not math.isfinite(d[k]) for k in keys):
            flags.append(f"{name}_undefined_{reason}")

    single = "single_respondent" if e.n == 1 else ""
    constant = e.estimate in (0.0, 1.0)
    undefined(("estimate",), "estimate", single or "no_weight")
    undefined(("se",), "se", single or "variance")
    no_df = "no_degrees_of_freedom" if e.df <= 0 else ""
    no_var = "zero_variance" if e.se == 0 else "se_undefined"
    undefined(("ci_low", "ci_high"), "ci", single or no_df or "se_undefined")
    undefined(("ci_logit_low", "ci_logit_high"), "ci_logit", single or no_df or "se_undefined")
    undefined(("ci_kg_low", "ci_kg_high"), "ci_kg", single or no_df or no_var)
    undefined(("n_eff",), "n_eff", single or no_var)
    if not (e.weight_sum > e.n):
        deff_reason = "weights_sum_to_n" if math.isclose(e.weight_sum, e.n) else "weights_sum_below_n"
    else:
        deff_reason = "all_0_or_all_1" if constant else "zero_srs_variance"
    undefined(("deff",), "deff", single or deff_reason)
    shown = presentation.assess(e)
    out: dict[str, Any] = finite(d)
    out["presentable"] = shown.presentable
    out["flags"] = flags + list(shown.flags)
    return out


class EstimateError(ValueError):
    """A problem with the input, phrased for the person running the command."""


@dataclass(frozen=True)
class Table:
    header: list[str]
    columns: dict[str, list[str]]
    n: int


def read_csv(path: Path) -> Table:
    try:
        header, rows = read_table(read_path(path, kind="analysis"), path.name, kind="analysis")
    except InputError as exc:
        raise EstimateError(str(exc)) from exc
    if not rows:
        raise EstimateError(f"{path}: needs a header row and at least one data row")
    short = [i + 2 for i, r in enumerate(rows) if len(r) != len(header)]
    if short:
        raise EstimateError(f"{path}: row {short[0]} has a different number of fields than the header")
    columns = {h: [r[i].strip() for r in rows] for i, h in enumerate(header)}
    return Table(header, columns, len(rows))


def _need(table: Table, col: str, what: str, path: Path) -> list[str]:
    if col not in table.columns:
        raise EstimateError(f"{path}: no column {col!r} (the {what}); columns are: {', '.join(table.header)}")
    return table.columns[col]


def _numbers(values: list[str], col: str, path: Path) -> np.ndarray:
    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            raise EstimateError(f"{path}: row {i + 2}, column {col}: expected a number, got {v!r}") from None
        if not math.isfinite(out[i]):
            raise EstimateError(f"{path}: row {i + 2}, column {col}: expected a finite number, got {v!r}")
    return out


def read_margins(path: Path, table: Table, data_path: Path) -> raking.Margin:
    """A margins file: one or more category columns (joint cells) and a final `population` column."""
    m = read_csv(path)
    if m.header[-1] != "population" or len(m.header) < 2:
        raise EstimateError(f"{path}: expected category column(s) followed by a final 'population' column")
    cats = m.header[:-1]
    for c in cats:
        _need(table, c, f"margin category from {path.name}", data_path)
    pops = _numbers(m.columns["population"], "population", path)
    if (pops <= 0).any():
        raise EstimateError(f"{path}: population totals must be positive")
    labels = ["|".join(m.columns[c][i] for c in cats) for i in range(m.n)]
    if len(set(labels)) != len(labels):
        raise EstimateError(f"{path}: a category appears twice")
    totals = dict(zip(labels, pops.tolist(), strict=True))
    data_labels = np.array(["|".join(table.columns[c][i] for c in cats) for i in range(table.n)])
    in_data = set(data_labels.tolist())
    missing = sorted(in_data - set(totals))
    if missing:
        raise EstimateError(f"{path}: categories {', '.join(missing)} occur in the data but have no population total")
    absent = sorted(set(totals) - in_data)
    if absent:
        raise EstimateError(f"{path}: categories {', '.join(absent)} have a population total but no respondents")
    return raking.Margin(column="|".join(cats), categories=data_labels, totals=totals)


def estimate(
    path: Path,
    *,
    strata: str,
    psu: str,
    weight: str,
    outcome: str,
    by: list[str],
    rake: list[Path],
    lonely_psu: str = "fail",
    variance: str = "taylor",
) -> dict[str, Any]:
    """``variance``: ``"taylor"`` (linearisation) or ``"jkn"`` (delete-one-PSU jackknife, every replicate raked
    to the ``rake`` margins; see :mod:`kepu.stats.replicate`). The result says which was used."""
    if variance not in VARIANCE_CHOICES:
        raise EstimateError(f"variance must be one of {', '.join(VARIANCE_CHOICES)}; got {variance!r}")
    table = read_csv(path)
    y = _numbers(_need(table, outcome, "outcome", path), outcome, path)
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        raise EstimateError(
            f"{path}: row {bad[0] + 2}, column {outcome}: the outcome must be 0 or 1, "
            f"got {table.columns[outcome][bad[0]]!r}"
        )
    w = _numbers(_need(table, weight, "weight", path), weight, path)
    nonpos = np.flatnonzero(w <= 0)
    if nonpos.size:
        raise EstimateError(
            f"{path}: row {nonpos[0] + 2}, column {weight}: weights must be positive, "
            f"got {table.columns[weight][nonpos[0]]!r}"
        )
    groups = {col: np.array(_need(table, col, "--by variable", path)) for col in by}
    try:
        design = survey.Design.from_arrays(
            strata=_need(table, strata, "strata", path),
            psu=_need(table, psu, "PSU", path),
            weights=w,
            lonely_psu=lonely_psu,
        )
        margins = [read_margins(p, table, path) for p in rake]
        estimator: survey.Design | replicate.JackknifeDesign = design
        if variance == "jkn":
            estimator = replicate.jackknife(design, margins, psu=_need(table, psu, "PSU", path))
        elif margins:
            estimator = raking.rake(design, margins).design
        overall = estimator.mean(y)
        out_by = {col: {str(k): estimate_json(e) for k, e in estimator.by(y, g).items()} for col, g in groups.items()}
    except EstimateError:
        raise
    except ValueError as exc:
        raise EstimateError(f"{path}: {exc}") from exc
    return {"n": table.n, "overall": estimate_json(overall), "by": out_by, "raked": bool(rake), "variance": variance}
