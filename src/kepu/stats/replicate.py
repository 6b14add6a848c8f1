"""Delete-one-PSU jackknife (JKn) variance, with every replicate re-raked (pure numpy/scipy, no Django).

The results are those of R's ``survey`` package for
``as.svrepdesign(svydesign(ids=~psu, strata=~stratum, weights=~w, nest=TRUE), type="JKn", mse=TRUE)``,
optionally followed by ``rake()`` on the replicate design, and the tests check them against R.

Replicates
    One per PSU of every stratum with two or more PSUs: the PSU's weights are set to 0 and the other PSUs of its
    stratum are multiplied by ``n_h / (n_h - 1)``; everything else keeps its weight. The variance of an estimate
    ``theta`` is ``scale * sum_r (n_h - 1) / n_h * (theta_r - theta)^2``, centred on the full-sample estimate
    (``mse=TRUE``), ``scale`` = 1. A replicate that deletes every respondent of a domain has no estimate for it
    and adds nothing, as R's ``svrVar`` discards such replicates (with a warning).

Raking
    When margins are given, the full sample and EVERY replicate are raked to the same margins (R: ``rake()`` on
    the replicate design raises each replicate's weights to the population totals too), so the variance
    includes the raking. Raking only ever multiplies all respondents of one joint cell (a combination of the
    margins' categories) by the same factor, so it runs on the table of weighted counts per replicate and joint
    cell; a replicate's table is the full table plus a correction from its stratum and its deleted PSU. A
    replicate's estimate of a (domain) mean is again a sum over cells of ``factor * (weighted sums per PSU and
    cell)``. Nothing is done per row and replicate: 1,000,000 rows with 6,668 PSUs take a few seconds.

Lonely PSUs (a stratum with a single PSU), as R's ``jknweights`` under ``options(survey.lonely.psu=)``
    ``fail`` raises :class:`~kepu.stats.survey.LonelyPSUError` (R stops when building the replicate design);
    ``remove`` and ``certainty``: the stratum gets no replicate (it adds nothing to the variance);
    ``average``: the same, and ``scale`` is (number of PSUs) / (number of replicates), as R does;
    ``adjust``: one replicate that deletes the stratum and multiplies every other PSU by ``H / (H - 1)``
    (``H`` strata), with the factor ``(H - 1) / H``.

Degrees of freedom (``Estimate.df``): the domain's design df, NOT R's ``degf()`` of the replicate design
    ``df`` is the Taylor estimate's (``Design._domain_df`` of kepu.stats.survey, reused): PSUs with domain
    members minus strata with domain members. The logit and Korn–Graubard intervals and the presentation flags
    (``review_df`` when df < 8) use it. This is the NCHS presentation standard's choice (Vital Health Stat
    2(175), 2017: the design degrees of freedom of the domain), and the simulation of ``bench/bench_coverage.py``
    shows why: with R's ``degf()`` of the raked replicate design (the rank of the replicate weights minus one,
    about the number of replicates − 1: ~41 for a district whose information comes from ~10 PSUs in ~7 strata)
    the district's Korn–Graubard intervals covered only ~92% and ``review_df`` never fired; with the design df
    (median 3) they cover ~99% and are flagged as for Taylor (docs/literacy.md, "What coverage we measured").
    The SEs and design effects are R's exactly; only the df, and so the intervals that use t quantiles, differ
    from ``svyciprop`` on the replicate design: the same formulas with the design df in place of ``degf()``
    (R's ``method="beta"`` always takes ``degf(design)``; its ``df=`` argument does not reach it).

    R's ``degf()`` itself is :meth:`JackknifeDesign.replicate_df` (checked against R): the rank of the
    replicate weight matrix minus one (``qr(..., tol=1e-5)``), recomputed for a domain on the domain's rows
    (``svyby`` drops the other rows), computed by R's criterion on the distinct rows of that matrix (one per
    PSU, or per PSU and joint raking cell). Without raking this is mostly ``PSUs - strata``; after raking
    usually the number of replicates minus one. Beyond :data:`RANK_LIMIT` (rows x replicates^2) or
    :data:`RANK_MAX_REPLICATES` the rank is not computed: without raking the closed form
    ``sum_h min(d_h, n_h - 1) + 1 - 1`` (``d_h`` domain PSUs of stratum ``h``; exact without lonely PSUs),
    after raking ``min(replicates, distinct rows) - 1``, an upper bound.

Intervals
    Wald (normal quantile, as ``confint(svymean())``), logit and Korn–Graubard (t on the design df above, the
    formulas of ``svyciprop(method="logit"/"beta")``; ``nrow(design)`` = the domain's respondents, since a subset
    of a replicate design drops the other rows), built by :func:`~kepu.stats.survey.domain_estimates` as for
    Taylor.
    The design effect is R's ``svymean(..., deff=TRUE)`` on the replicate design: the replicate variance over
    that of simple random sampling without replacement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kepu.stats import raking
from kepu.stats.arrays import BoolArray, FloatArray
from kepu.stats.survey import (
    Design,
    EmptyDomainError,
    Estimate,
    Factor,
    IntArray,
    LonelyPSUError,
    SurveyError,
    _as_mask,
    _as_outcome,
    _factorize_ints,
    check_level,
    domain_estimates,
    factorize,
)

RANK_LIMIT = 2_000_000_000  # rows x replicates^2 of the distinct-row matrix up to which degf is R's rank
RANK_MAX_REPLICATES = 1000
CHUNK_ENTRIES = 20_000_000  # replicates x cells x domains gathered at once (160 MB)
RANK_TOL = 1e-5  # R's degf(): qr(weights(design, "analysis"), tol = 1e-5)$rank - 1


class ReplicateRakingError(SurveyError):
    """One replicate could not be raked to the margins; ``stratum`` and ``psu`` name the deleted PSU."""

    def __init__(self, message: str, *, stratum: str, psu: str, margin: str) -> None:
        super().__init__(message)
        self.stratum = stratum
        self.psu = psu
        self.margin = margin


@dataclass(frozen=True, eq=False)
class _Replicates:
    """Replicate ``r`` deletes PSU ``psu[r]`` and multiplies the PSUs of ``group[r]`` (a stratum, or ``H`` = all
    PSUs for the ``adjust`` rule) by ``factor[r]``; its variance term is weighted by ``rscale[r]``."""

    psu: IntArray
    group: IntArray
    factor: FloatArray
    rscale: FloatArray
    scale: float


class JackknifeDesign:
    """A JKn replicate design (optionally raked): build it with :func:`jackknife`."""

    def __init__(
        self,
        design: Design,
        reps: _Replicates,
        psu_labels: NDArray[Any],
        cells: IntArray,
        n_cells: int,
        factors: FloatArray,
        margin_names: tuple[str, ...],
    ) -> None:
        self.design = design
        self._reps = reps
        self._psu_labels = psu_labels
        self._cells = cells
        self._n_cells = n_cells
        self._factors = factors  # (R + 1, J): raking factor per joint cell; row 0 is the full sample
        self.margin_names = margin_names
        self.n = design.n
        self.n_replicates = int(reps.psu.shape[0])
        base = design.weights
        self.weights: FloatArray = np.asarray(base * factors[0][cells], dtype=np.float64)  # full-sample weights

    @property
    def raked(self) -> bool:
        return bool(self.margin_names)

    def replicate_label(self, r: int) -> tuple[str, str]:
        """(stratum, PSU) deleted by replicate ``r``."""
        c = int(self._reps.psu[r])
        return str(self.design.strata_labels[self.design._psu_stratum[c]]), str(self._psu_labels[c])

    # -- public estimators ------------------------------------------------------------------------------------

    def mean(
        self,
        y: ArrayLike,
        *,
        domain: ArrayLike | None = None,
        level: float = 0.95,
        require_binary: bool = False,
        name: str = "y",
        domain_label: str | None = None,
    ) -> Estimate:
        """Weighted mean (a proportion for a 0/1 outcome), optionally in a domain, as ``svymean`` (and
        ``svyciprop``) on the replicate design's subset."""
        yy = _as_outcome(y, self.n, name)
        member = np.ones(self.n, dtype=bool) if domain is None else _as_mask(domain, self.n)
        label = "(all respondents)" if domain is None else (domain_label or "(mask)")
        self._check_values(yy, member, name)
        if not member.any():
            raise EmptyDomainError(f"domain {label} is empty")
        binary = self.design._check_binary(yy, member, require_binary, name)
        return self._means(yy, np.zeros(self.n, dtype=np.intp), 1, member, level, binary)[0]

    def by(
        self,
        y: ArrayLike,
        groups: ArrayLike | Factor,
        *,
        level: float = 0.95,
        require_binary: bool = False,
        name: str = "y",
        group_name: str = "groups",
    ) -> dict[str, Estimate]:
        """Weighted means per group (domain), as ``svyby(~y, ~g, repdesign, svymean)``; keys ``str(level)``."""
        yy = _as_outcome(y, self.n, name)
        labels, col = factorize(groups, group_name, self.n)
        member = np.ones(self.n, dtype=bool)
        self._check_values(yy, member, name)
        binary = self.design._check_binary(yy, member, require_binary, name)
        ests = self._means(yy, col, int(labels.shape[0]), member, level, binary)
        return {str(lab): e for lab, e in zip(labels, ests, strict=True)}

    # -- internals --------------------------------------------------------------------------------------------

    @staticmethod
    def _check_values(y: FloatArray, member: BoolArray, name: str) -> None:
        bad = ~np.isfinite(y) & member
        if bad.any():
            raise SurveyError(
                f"outcome {name!r} has {int(bad.sum())} missing or infinite values (first at row {int(np.argmax(bad))})"
            )

    def _cell_sums(self, values: FloatArray, col: IntArray, n_cols: int) -> FloatArray:
        """``(C, J, G)`` sums of ``values`` by PSU, joint cell and domain column."""
        d = self.design
        j, g = self._n_cells, n_cols
        key = (d._psu * j + self._cells) * g + col
        return np.asarray(np.bincount(key, weights=values, minlength=d.n_psu * j * g), dtype=np.float64).reshape(
            d.n_psu, j, g
        )

    def _replicate_values(self, sums: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Full-sample ``(G,)`` and replicate ``(R, G)`` totals from PSU x cell x domain sums."""
        d, reps, f = self.design, self._reps, self._factors
        total = sums.sum(axis=0)  # (J, G)
        groups = np.concatenate([np.add.reduceat(sums, d._stratum_starts, axis=0), total[None]], axis=0)
        full = f[0] @ total
        fr = f[1:]
        rep = fr @ total
        # The gathered (R, J, G) blocks are formed a few domain columns at a time to bound memory.
        step = max(1, CHUNK_ENTRIES // max(1, fr.size))
        for g0 in range(0, sums.shape[2], step):
            cols = slice(g0, g0 + step)
            rep[:, cols] += (reps.factor - 1.0)[:, None] * np.einsum("rj,rjg->rg", fr, groups[:, :, cols][reps.group])
            rep[:, cols] -= reps.factor[:, None] * np.einsum("rj,rjg->rg", fr, sums[:, :, cols][reps.psu])
        return np.asarray(full, dtype=np.float64), np.asarray(rep, dtype=np.float64)

    def _means(
        self, y: FloatArray, col: IntArray, n_cols: int, member: BoolArray, level: float, binary: bool
    ) -> list[Estimate]:
        level = check_level(level)
        w = np.where(member, self.design.weights, 0.0)
        ym = np.where(member, y, 0.0)
        cnt = self._cell_sums(member.astype(np.float64), col, n_cols)
        den_full, den_rep = self._replicate_values(self._cell_sums(w, col, n_cols))
        num_full, num_rep = self._replicate_values(self._cell_sums(w * ym, col, n_cols))
        nobs = cnt.sum(axis=(0, 1)).astype(np.int64)
        empty = np.flatnonzero(nobs == 0)
        if empty.size:
            raise EmptyDomainError(f"domain {int(empty[0])} is empty")
        est = num_full / den_full
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = num_rep / den_rep
        reps = self._reps
        # A replicate without the domain's respondents has no estimate; R's svrVar discards it (with a warning).
        terms = np.where(np.isfinite(theta), reps.rscale[:, None] * (theta - est[None, :]) ** 2, 0.0)
        var = reps.scale * terms.sum(axis=0)
        wfull = w * self._factors[0][self._cells]
        resid = np.where(member, ym - est[col], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.bincount(col, weights=wfull * resid * resid, minlength=n_cols) / den_full * (nobs / (nobs - 1.0))
        # The domain's design df (PSUs minus strata with domain members), as for the Taylor estimate: see the
        # module docstring for why not R's degf() of the replicate design (replicate_df()).
        df = self.design._domain_df(col, n_cols, member)
        return domain_estimates(est=est, var=var, s2=s2, wsum=den_full, nobs=nobs, df=df, level=level, binary=binary)

    def replicate_df(self, domain: ArrayLike | None = None) -> int:
        """R's ``degf()`` of the replicate design (or its subset to ``domain``, a 0/1 mask): the rank of the
        replicate weights minus one. Not the ``df`` of the estimates (see the module docstring); kept to check
        against R and to show how far it is from the design df."""
        member = np.ones(self.n, dtype=bool) if domain is None else _as_mask(domain, self.n)
        if not member.any():
            raise EmptyDomainError("domain (mask) is empty")
        col = np.zeros(self.n, dtype=np.intp)
        w = np.where(member, self.design.weights, 0.0)
        counts = self._cell_sums(member.astype(np.float64), col, 1)
        return int(self._replicate_df(counts, self._cell_sums(w * w, col, 1))[0])

    def _replicate_df(self, counts: FloatArray, sq_weights: FloatArray) -> NDArray[np.int64]:
        """R's ``degf()`` of each domain's subset of the replicate design (see the module docstring).

        ``counts``/``sq_weights``: respondents and sums of squared weights per PSU, cell and domain. Rows of the
        replicate weight matrix repeat per PSU and cell up to their weight, so one row scaled by the root of the
        group's sum of squared weights has the same Gram matrix, hence the same QR factor, as all of them."""
        d, reps = self.design, self._reps
        n_rep = self.n_replicates
        out = np.zeros(counts.shape[2], dtype=np.int64)
        for g in range(counts.shape[2]):
            if self.raked:
                psu_idx, cell_idx = np.nonzero(counts[:, :, g] > 0)
                scale = np.sqrt(sq_weights[psu_idx, cell_idx, g])
            else:
                psu_idx = np.flatnonzero(counts[:, :, g].sum(axis=1) > 0)
                cell_idx = np.zeros(psu_idx.shape[0], dtype=np.intp)
                scale = np.sqrt(sq_weights[psu_idx, :, g].sum(axis=1))
            rows = psu_idx.shape[0]
            if rows * n_rep * n_rep <= RANK_LIMIT and n_rep <= RANK_MAX_REPLICATES:
                group = reps.group[None, :]
                in_group = (d._psu_stratum[psu_idx][:, None] == group) | (group == d.n_strata)
                base = np.where(in_group, reps.factor[None, :], 1.0)
                base = np.where(psu_idx[:, None] == reps.psu[None, :], 0.0, base)
                rank = _qr_rank(base * self._factors[1:, :].T[cell_idx] * scale[:, None], RANK_TOL)
            elif self.raked:
                rank = min(n_rep, rows)
            else:
                per = np.bincount(d._psu_stratum[psu_idx], minlength=d.n_strata)
                rank = int(np.minimum(per, d._psu_per_stratum - 1).sum()) + 1
            out[g] = rank - 1
        return out


def _qr_rank(x: FloatArray, tol: float) -> int:
    """The rank R's ``qr(x, tol=)`` (LINPACK ``dqrdc2``, limited pivoting) reports: columns are taken in order
    and one whose norm, after removing the columns kept so far, is below ``tol`` times its own norm is set
    aside as dependent. Done on the Gram matrix ``x'x`` (a Cholesky factor grown one kept column at a time):
    the squared residual norm of column ``j`` is ``G_jj - |L^-1 G_Aj|^2``."""
    from scipy.linalg import solve_triangular  # only here: scipy.linalg adds to the CLI's start-up

    gram = x.T @ x
    kept: list[int] = []
    factor = np.zeros((0, 0))
    for j in range(gram.shape[0]):
        gjj = float(gram[j, j])
        if gjj <= 0:
            continue
        proj = solve_triangular(factor, gram[kept, j], lower=True) if kept else np.zeros(0)
        resid2 = gjj - float(proj @ proj)
        if resid2 >= tol * tol * gjj:
            grown = np.zeros((len(kept) + 1, len(kept) + 1))
            grown[: len(kept), : len(kept)] = factor
            grown[len(kept), : len(kept)] = proj
            grown[len(kept), len(kept)] = math.sqrt(resid2)
            factor = grown
            kept.append(j)
    return len(kept)


# ---------------------------------------------------------------------------------------------------------------


def _replicates(design: Design) -> _Replicates:
    """The JKn replicates of R's ``jknweights`` (with its lonely-PSU rules; see the module docstring)."""
    nh = design._psu_per_stratum
    lonely = nh == 1
    if lonely.any() and design.lonely_psu == "fail":
        hits = np.flatnonzero(lonely)
        raise LonelyPSUError(str(design.strata_labels[hits[0]]), len(hits) - 1)
    keep = ~lonely[design._psu_stratum]
    psu = np.flatnonzero(keep).astype(np.intp)
    group = design._psu_stratum[psu].astype(np.intp)
    nhr = nh[group].astype(np.float64)
    factor = nhr / (nhr - 1.0)
    rscale = (nhr - 1.0) / nhr
    scale = 1.0
    if lonely.any() and design.lonely_psu == "adjust":
        n_strata = float(design.n_strata)
        extra = np.flatnonzero(lonely[design._psu_stratum]).astype(np.intp)
        psu = np.concatenate([psu, extra])
        group = np.concatenate([group, np.full(extra.shape[0], design.n_strata, dtype=np.intp)])
        factor = np.concatenate([factor, np.full(extra.shape[0], n_strata / (n_strata - 1.0))])
        rscale = np.concatenate([rscale, np.full(extra.shape[0], (n_strata - 1.0) / n_strata)])
        order = np.argsort(design._psu_stratum[psu], kind="stable")  # R's order: stratum by stratum
        psu, group, factor, rscale = psu[order], group[order], factor[order], rscale[order]
    elif lonely.any() and design.lonely_psu == "average" and psu.size:
        scale = design.n_psu / psu.size
    if psu.size == 0:
        raise SurveyError("no stratum has two or more PSUs, so the jackknife has no replicates")
    return _Replicates(psu=psu, group=group, factor=factor, rscale=rscale, scale=scale)


def _joint_cells(codes: Sequence[IntArray], sizes: Sequence[int]) -> tuple[IntArray, IntArray]:
    """Compact joint-cell code per row and, per margin, the margin category of each joint cell."""
    key = np.zeros(codes[0].shape[0], dtype=np.int64)
    for k, size in zip(codes, sizes, strict=True):
        key = key * size + k
    labels, cells = _factorize_ints(key)
    per_margin = []
    rest = labels.copy()
    for size in reversed(sizes):
        per_margin.append(rest % size)
        rest = rest // size
    return cells.astype(np.intp), np.stack(per_margin[::-1]).astype(np.intp)


def jackknife(
    design: Design,
    margins: Sequence[raking.Margin] = (),
    *,
    max_iter: int = 50,
    tol: float = 1e-10,
    psu: ArrayLike | None = None,
) -> JackknifeDesign:
    """The delete-one-PSU jackknife of ``design`` (an uncalibrated design), raked to ``margins`` if given: the
    full sample and every replicate (see the module docstring). ``psu`` (the PSU label of each respondent, as
    given to :meth:`Design.from_arrays`) only names PSUs in messages.

    Raises :class:`~kepu.stats.survey.LonelyPSUError` for a one-PSU stratum under ``lonely_psu="fail"``,
    :class:`~kepu.stats.raking.MarginError`/:class:`~kepu.stats.raking.RakingError` when the full sample cannot
    be raked, and :class:`ReplicateRakingError` naming the replicate (stratum and PSU deleted) when one
    replicate cannot be raked (a margin category left without respondents, or no convergence)."""
    if design.is_calibrated:
        raise SurveyError("the jackknife starts from the sampling weights: pass the design before raking")
    reps = _replicates(design)
    psu_labels = _psu_labels(design, psu)
    n = design.n
    if not margins:
        factors = np.ones((reps.psu.shape[0] + 1, 1))
        return JackknifeDesign(design, reps, psu_labels, np.zeros(n, dtype=np.intp), 1, factors, ())
    # Validates the margins and rakes the full sample (its errors are worded for the whole sample).
    raking.rake(design, margins, max_iter=max_iter, tol=tol)
    prepared = [raking._prepare(m, n) for m in margins]
    cells, cell_cats = _joint_cells([p.codes for p in prepared], [p.targets.size for p in prepared])
    n_cells = int(cell_cats.shape[1])
    psu_cell = np.asarray(
        np.bincount(design._psu * n_cells + cells, weights=design.weights, minlength=design.n_psu * n_cells),
        dtype=np.float64,
    ).reshape(design.n_psu, n_cells)
    total = psu_cell.sum(axis=0)
    groups = np.concatenate([np.add.reduceat(psu_cell, design._stratum_starts, axis=0), total[None]], axis=0)
    rep_tables = (
        total[None, :] + (reps.factor - 1.0)[:, None] * groups[reps.group] - reps.factor[:, None] * psu_cell[reps.psu]
    )
    tables = np.concatenate([total[None, :], np.maximum(rep_tables, 0.0)], axis=0)  # (R + 1, J)
    factors = _rake_tables(tables, cell_cats, prepared, max_iter, tol, reps, design, psu_labels)
    return JackknifeDesign(design, reps, psu_labels, cells, n_cells, factors, tuple(p.name for p in prepared))


def _psu_labels(design: Design, psu: ArrayLike | None) -> NDArray[Any]:
    """One label per PSU for messages: its label in ``psu`` (per respondent), else its number in its stratum."""
    if psu is not None:
        labels = np.asarray(psu)
        if labels.shape == (design.n,):
            first = np.full(design.n_psu, -1, dtype=np.intp)
            first[design._psu[::-1]] = np.arange(design.n - 1, -1, -1)
            return labels[first]
    within = np.arange(design.n_psu) - design._stratum_starts[design._psu_stratum]
    return (within + 1).astype(str)


def _rake_tables(
    tables: FloatArray,
    cell_cats: IntArray,
    prepared: Sequence[Any],
    max_iter: int,
    tol: float,
    reps: _Replicates,
    design: Design,
    psu_labels: NDArray[Any],
) -> FloatArray:
    """IPF on every row of ``tables`` (weighted counts per joint cell) at once; returns the factor per cell."""

    def name_replicate(r: int) -> tuple[str, str]:
        c = int(reps.psu[r - 1])
        return str(design.strata_labels[design._psu_stratum[c]]), str(psu_labels[c])

    onehots = [np.eye(p.targets.size)[cell_cats[m]] for m, p in enumerate(prepared)]  # (J, K_m)
    for p, oh in zip(prepared, onehots, strict=True):
        sums = tables @ oh
        empty = (sums <= 0) & (p.targets > 0)[None, :]
        if empty.any():
            r, k = (int(v[0]) for v in np.nonzero(empty))
            stratum, psu = name_replicate(r)
            raise ReplicateRakingError(
                f"the jackknife replicate that deletes PSU {psu!r} of stratum {stratum!r} cannot be raked: no "
                f"respondent is left in category {p.labels[k]!r} of margin {p.name!r} (all of them are in that "
                "PSU). Merge that category with another, or the PSU's stratum with another, or use Taylor variance.",
                stratum=stratum,
                psu=psu,
                margin=p.name,
            )
    x = tables.copy()
    errors = np.zeros(tables.shape[0])
    for _ in range(max_iter):
        for p, oh, cats in zip(prepared, onehots, cell_cats, strict=True):
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = p.targets[None, :] / (x @ oh)
            x = x * ratio[:, cats]
        errors = np.max(
            np.stack(
                [
                    np.max(np.abs(x @ oh - p.targets[None, :]) / p.targets, axis=1)
                    for p, oh in zip(prepared, onehots, strict=True)
                ]
            ),
            axis=0,
        )
        if not np.isfinite(errors).all():
            break
        if errors.max() <= tol:
            break
    bad = ~(errors[1:] <= tol)  # row 0, the full sample, converged in raking.rake() already
    if bad.any():
        r = 1 + int(np.argmax(np.where(np.isfinite(errors[1:]), errors[1:], np.inf)))
        stratum, psu = name_replicate(r)
        worst = [
            float(np.max(np.abs(x[r] @ oh - p.targets) / p.targets)) for p, oh in zip(prepared, onehots, strict=True)
        ]
        m = int(np.nanargmax(worst)) if np.isfinite(worst).any() else 0
        raise ReplicateRakingError(
            f"raking did not converge for the jackknife replicate that deletes PSU {psu!r} of stratum {stratum!r} "
            f"after {max_iter} iterations: margin {prepared[m].name!r} is still off by {worst[m]:.3g} (relative; "
            f"tolerance {tol:g}; {int(bad.sum())} replicate(s) in all). Without that PSU the margins cannot be met "
            "together; merge sparse categories or strata, or use Taylor variance.",
            stratum=stratum,
            psu=psu,
            margin=prepared[m].name,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.where(tables > 0, x / tables, 1.0)
    return np.asarray(factors, dtype=np.float64)
