"""`kepu literacy estimate`: design-based estimates from a respondent-level CSV, for scripts.

Pure statistics over a file (no database): reads the CSV, optionally rakes to margin files, and
prints one JSON object {"n", "overall", "by", "raked"} or a readable table.

The JSON is strict (no NaN/Infinity): an undefined quantity is null and the estimate's ``flags`` say why."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kepu.core.strict_json import finite
from kepu.literacy.estimate_input import EstimateError, read_input
from kepu.stats import presentation, raking, replicate, survey

__all__ = ["EstimateError", "estimate", "estimate_json"]

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
    data = read_input(path, strata=strata, psu=psu, weight=weight, outcome=outcome, by=by, rake=rake)
    y = data.outcome
    try:
        design = survey.Design.from_arrays(strata=data.strata, psu=data.psu, weights=data.weight, lonely_psu=lonely_psu)
        margins = data.margins
        estimator: survey.Design | replicate.JackknifeDesign = design
        if variance == "jkn":
            estimator = replicate.jackknife(design, margins, psu=data.labels(data.psu))
        elif margins:
            estimator = raking.rake(design, margins).design
        overall = estimator.mean(y)
        out_by = {
            col: {str(k): estimate_json(e) for k, e in estimator.by(y, g).items()} for col, g in data.groups.items()
        }
    except EstimateError:
        raise
    except ValueError as exc:
        raise EstimateError(f"{path}: {exc}") from exc
    return {"n": data.n, "overall": estimate_json(overall), "by": out_by, "raked": bool(rake), "variance": variance}


def add_arguments(e: Any) -> None:
    """The options of `kepu literacy estimate` (an argparse parser), shared by the management command and the
    Django-free fast path of the `kepu` command (:func:`kepu.cli.literacy_estimate`)."""
    e.add_argument("file", type=Path)
    e.add_argument("--strata", required=True)
    e.add_argument("--psu", required=True, help="PSU column; PSU ids may repeat across strata (nested).")
    e.add_argument("--weight", required=True)
    e.add_argument("--outcome", required=True, help="0/1 column (1 = 具备科学素质).")
    e.add_argument("--by", action="append", default=[], help="Domain variable (repeatable).")
    e.add_argument(
        "--rake",
        action="append",
        default=[],
        type=Path,
        help="Margins CSV: category column(s) then 'population' (repeatable).",
    )
    e.add_argument(
        "--lonely-psu",
        choices=survey.LONELY_PSU_OPTIONS,
        default="fail",
        help="Strata with one PSU, as R's survey.lonely.psu (default: fail).",
    )
    e.add_argument(
        "--variance",
        choices=VARIANCE_CHOICES,
        default="taylor",
        help="taylor: linearisation (default); jkn: delete-one-PSU jackknife within strata, every replicate "
        "re-raked to the --rake margins (R: as.svrepdesign(type='JKn', mse=TRUE) then rake()).",
    )
    e.add_argument("--json", action="store_true")


def output_lines(opts: dict[str, Any]) -> list[str]:
    """What `kepu literacy estimate` prints for parsed options: one line of strict JSON, or a readable table."""
    from kepu.core import strict_json

    result = estimate(
        opts["file"],
        strata=opts["strata"],
        psu=opts["psu"],
        weight=opts["weight"],
        outcome=opts["outcome"],
        by=opts["by"],
        rake=opts["rake"],
        lonely_psu=opts["lonely_psu"],
        variance=opts["variance"],
    )
    if opts["json"]:
        return [strict_json.dumps(result, ensure_ascii=False)]

    def f(x: float | None, spec: str = ".4f") -> str:
        return "-" if x is None else format(x, spec)

    o = result["overall"]
    lines = [
        f"n={result['n']}  raked={result['raked']}  variance={result['variance']}",
        f"overall  {f(o['estimate'])}  SE {f(o['se'])}  95% CI [{f(o['ci_low'])}, {f(o['ci_high'])}]"
        f"  logit CI [{f(o['ci_logit_low'])}, {f(o['ci_logit_high'])}]  deff {f(o['deff'], '.3f')}",
    ]
    for col, levels in result["by"].items():
        for level, e in levels.items():
            lines.append(
                f"{col}={level}  n={e['n']}  {f(e['estimate'])}  SE {f(e['se'])}  "
                f"[{f(e['ci_low'])}, {f(e['ci_high'])}]"
            )
    return lines
