"""Fits the claim matcher's two logistic models (lexical-only and combined) and their threshold and margin
on the calibration claims, and writes src/kepu/rumours/calibration.json. The benchmark
(bench/rumours_match.py) scores other claims, never these.

Training pairs: for each calibration claim, its 8 best debunks by lexical score and its 8 best by cosine
(label 1 for the debunk the claim restates), in four views of the list: as it is; without the claim's
own debunk (its answer not yet published: "no match" is right); holding only its debunk; holding only its
closest debunk that is not its answer.
Fit: L2-penalised logistic regression by Newton's method.
Threshold and margin: the grid point with the lowest cost on the calibration claims, where a wrong answer
(a wrong debunk, or a debunk for a claim that has none) costs 2 and a missed one costs 1; among points of
equal cost, the widest margin.
Run: .venv/bin/python bench/rumours_calibrate.py"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "rumours"
OUT = ROOT / "src" / "kepu" / "rumours" / "calibration.json"
WRONG_COST, MISS_COST = 2.0, 1.0
L2 = 0.01
TIE = 1e-9  # equal cost


def load(pattern: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(DATA.glob(pattern)):
        rows += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return rows


def fit_logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    X = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(X.shape[1])
    penalty = np.eye(X.shape[1]) * L2
    penalty[0, 0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -30, 30)))
        grad = X.T @ (p - y) + penalty @ beta
        hess = (X * (p * (1 - p))[:, None]).T @ X + penalty
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


def raw_features(debunks: list[dict], claims: list[dict]) -> tuple[dict[str, np.ndarray], int]:
    from kepu.rumours.embedding import embed
    from kepu.rumours.lexical import LexicalIndex, Restorer
    from kepu.rumours.matcher import background, raw_lexical, raw_semantic
    from kepu.rumours.normalise import normalise

    d_text = [normalise(d["claim"]) for d in debunks]
    restorer = Restorer(d_text)
    c_text = [restorer.restore(normalise(c["text"])) for c in claims]
    texts = [*d_text, *background()]
    raw = raw_lexical(LexicalIndex(texts), c_text)
    raw_semantic(raw, embed(c_text), embed(texts))
    return raw, len(d_text)


def choose_rule(p: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """(threshold, margin, cost per claim); truth[i] is the debunk index or -1. Of the grid points of equal
    lowest cost, the one with the widest margin, then the highest threshold: when the calibration claims
    cannot tell two rules apart, the more careful one."""
    from kepu.rumours.matcher import Model, decide

    grid = []
    for threshold in np.arange(0.30, 0.951, 0.05):
        for margin in np.arange(0.0, 0.501, 0.05):
            model = Model((), np.zeros(1), float(threshold), float(margin))
            top, _p1, answered = decide(p, model)
            wrong = answered & (top != truth)
            miss = ~answered & (truth >= 0)
            cost = (WRONG_COST * wrong.sum() + MISS_COST * miss.sum()) / len(truth)
            grid.append((float(cost), round(float(threshold), 2), round(float(margin), 2)))
    lowest = min(g[0] for g in grid)
    cost, threshold, margin = max((g for g in grid if g[0] <= lowest + TIE), key=lambda g: (g[2], g[1]))
    return threshold, margin, cost


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from kepu.rumours.matcher import COMBINED, LEXICAL, assemble

    debunks = load("*_debunks.jsonl")
    claims = load("*_calib.jsonl")
    index = {d["id"]: i for i, d in enumerate(debunks)}
    truth = np.array([index[c["label"]] if c.get("label") else -1 for c in claims])
    raw, n = raw_features(debunks, claims)
    # Four views of the debunk list, so that the figures mean the same however many debunks a city has:
    # the list as it is; for each claim that has a debunk, the list without it (its answer not yet
    # published: its neighbours on the same topic must not answer it); the list holding only its debunk;
    # and for every claim, the list holding only its closest debunk that is not its answer.
    m = len(truth)
    lex_all = np.maximum(raw["bm25"], raw["sound"])[:, :n]
    labelled = truth >= 0
    everything = np.ones((m, n), dtype=bool)
    without = everything.copy()
    without[np.flatnonzero(labelled), truth[labelled]] = False
    only = np.zeros((m, n), dtype=bool)
    only[np.flatnonzero(labelled), truth[labelled]] = True
    ranked = np.argsort(-lex_all, axis=1)
    neighbour = np.array([next(int(c) for c in ranked[i] if c != truth[i]) for i in range(m)])
    near = np.zeros((m, n), dtype=bool)
    near[np.arange(m), neighbour] = True
    views = [(everything, truth, slice(None)), (without, np.full(m, -1), labelled),
             (only, truth, labelled), (near, np.full(m, -1), slice(None))]
    parts = [(assemble({k: v[rows] for k, v in raw.items()}, n, vis[rows]), vis[rows], t[rows])
             for vis, t, rows in views]
    feats = {k: np.vstack([p[0][k] for p in parts]) for k in parts[0][0]}
    visible = np.vstack([p[1] for p in parts])
    truth = np.concatenate([p[2] for p in parts])
    lex = np.where(visible, np.maximum(feats["bm25"], feats["sound"]), -10.0)
    cos = np.where(visible, feats["cosine"], -10.0)
    k = min(8, n)
    rows, cols = [], []
    for i in range(len(truth)):
        cand = {int(c) for c in np.argsort(-lex[i])[:k] if visible[i, c]}
        cand |= {int(c) for c in np.argsort(-cos[i])[:k] if visible[i, c]}
        rows += [i] * len(cand)
        cols += sorted(cand)
    r, c = np.array(rows), np.array(cols)
    y = (truth[r] == c).astype(float)
    doc: dict = {"fitted": dt.date.today().isoformat(), "script": "bench/rumours_calibrate.py",
                 "data": {"debunks": len(debunks), "claims": len(claims), "pairs": len(y),
                          "views": "as listed; without the claim's debunk; only its debunk; "
                                   "only its closest other debunk"},
                 "cost": {"wrong_answer": WRONG_COST, "missed_answer": MISS_COST}, "models": {}}
    for name, names in (("lexical", LEXICAL), ("combined", COMBINED)):
        x = np.column_stack([feats[f][r, c] for f in names])
        beta = fit_logistic(x, y)
        z = beta[0] + sum(beta[j + 1] * feats[f] for j, f in enumerate(names))
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        p[~visible] = 0.0  # a left-out debunk is no candidate
        threshold, margin, cost = choose_rule(p, truth)
        doc["models"][name] = {"features": list(names), "coef": [round(float(b), 6) for b in beta],
                               "threshold": threshold, "margin": margin, "calibration_cost": round(cost, 4)}
        print(f"{name:9s} coef={np.round(beta, 3).tolist()} threshold={threshold} margin={margin} cost={cost:.3f}")
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
