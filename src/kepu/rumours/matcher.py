"""Is a new claim a rumour we have already answered? (docs/rumours-matching.md)

Every claim is compared with every debunk on seven figures: BM25 share, sound overlap and claim coverage
(`kepu.rumours.lexical`), the cosine of their e5 embeddings (`kepu.rumours.embedding`) and that cosine as a
z-score among the claim's cosines, and how far the pair's cosine and lexical score stand above the claim's
next-best text. The comparison also takes in 105 everyday sentences (`background.txt`) that can never be
an answer, so these figures keep their meaning when a city has published only a few debunks. A logistic model turns them
into the probability that the claim restates the debunk. Its coefficients, threshold and margin were
fitted on a calibration set that the benchmark never scores (`bench/rumours_calibrate.py` writes
`calibration.json`).

The answer is the best debunk when its probability reaches the threshold and beats the runner-up by
the margin; otherwise "no match", because a wrong answer (telling a citizen their new question about
隔夜水 was the old rumour about 隔夜茶) is worse than a slower human one. `confidence` is the model's
probability that the answer given is right: p for a match, 1 − p for "no match".

Speed: the lexical model (the same model without the embedding figures, also calibrated) runs first.
A claim whose best debunk it gives p ≥ `LEXICAL_SURE`, `SURE_MARGIN` ahead of the next, is answered
without an embedding (on the labelled set, as precise as the combined model). So is a Chinese claim with
almost nothing in common with any debunk (`NO_CONTACT`, `LEXICAL_REMOTE`: on the 641 labelled claims, no
claim that has a debunk fell under either). The others are embedded; debunk embeddings come from the cache
after their first use, and near-duplicate claims (see `cluster_texts`) share one embedding."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from kepu.rumours.lexical import LexicalIndex, Restorer, sound_pairs, swaps
from kepu.rumours.normalise import normalise

_CJK = re.compile(r"[\u3400-\u9fff]")
CALIBRATION = Path(__file__).with_name("calibration.json")
BACKGROUND = Path(__file__).with_name("background.txt")
LEXICAL = ("bm25", "sound", "coverage", "lex_gap")
COMBINED = (*LEXICAL, "cosine", "cos_gap", "cos_z", "foreign_z", "foreign_gap")
LEXICAL_SURE = 0.8
SURE_MARGIN = 0.1
NO_CONTACT = 0.1
LEXICAL_REMOTE = 0.02


@dataclass(frozen=True)
class Match:
    id: str
    match: str | None
    confidence: float


@dataclass(frozen=True)
class Model:
    features: tuple[str, ...]
    coef: np.ndarray  # intercept first
    threshold: float
    margin: float

    def probability(self, feats: dict[str, np.ndarray]) -> np.ndarray:
        z = self.coef[0] + sum(self.coef[i + 1] * feats[f] for i, f in enumerate(self.features))
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@cache
def models() -> dict[str, Model]:
    doc = json.loads(CALIBRATION.read_text("utf-8"))
    return {name: Model(tuple(m["features"]), np.array(m["coef"], dtype=np.float64), float(m["threshold"]),
                        float(m["margin"])) for name, m in doc["models"].items()}


def _gap(x: np.ndarray) -> np.ndarray:
    """How far each entry stands above the best other entry of its row."""
    top2 = np.partition(x, -2, axis=1)[:, -2:]
    first, second = top2[:, 1:2], top2[:, 0:1]
    return np.where(x >= first, x - second, x - first)


@cache
def background() -> tuple[str, ...]:
    """Everyday sentences (Chinese and English) that no rumour restates. They stand beside the debunks as
    competitors that can never be an answer, so that a claim's lead over "the next best" means the same
    with one published debunk as with a thousand: with a single debunk, a claim about 隔夜茶 would
    otherwise lead the 隔夜水 debunk by its whole score."""
    return tuple(normalise(line) for line in BACKGROUND.read_text("utf-8").splitlines() if line.strip())


def raw_lexical(index: LexicalIndex, claims: Sequence[str]) -> dict[str, np.ndarray]:
    """Lexical scores against every indexed text (debunks first, then the background)."""
    bm25, sound, coverage = index.scores(claims)
    foreign = np.array([[0.0 if _CJK.search(t) else 1.0] for t in claims]).reshape(len(claims), 1)
    return {"bm25": bm25, "sound": sound, "coverage": coverage, "foreign": foreign}


def raw_semantic(raw: dict[str, np.ndarray], claim_vecs: np.ndarray, text_vecs: np.ndarray) -> None:
    """Cosines against every indexed text, and each as a z-score among the claim's cosines. Cross-language
    cosines run lower (an English forward's best debunk may score 0.86 where a Chinese paraphrase scores
    0.95); the z-score puts them on one scale."""
    cosine = claim_vecs @ text_vecs.T
    raw["cosine"] = cosine
    spread = np.maximum(cosine.std(axis=1, keepdims=True), 1e-3)
    raw["cos_z"] = (cosine - cosine.mean(axis=1, keepdims=True)) / spread


def assemble(raw: dict[str, np.ndarray], n: int, visible: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The model's figures for the first `n` columns (the debunks). `visible` (claims × n, bool) leaves
    debunks out as if they were not published, for calibration; the background always stays."""
    lex = np.maximum(raw["bm25"], raw["sound"])
    masks = [lex]
    if "cosine" in raw:
        masks.append(raw["cosine"].copy())
    if visible is not None:
        for m in masks:
            m[:, :n][~visible] = -10.0
    feats = {k: v[:, :n] for k, v in raw.items() if k != "foreign"}
    feats["foreign"] = np.repeat(raw["foreign"], n, axis=1)
    feats["lex_gap"] = _gap(masks[0])[:, :n]
    if "cosine" in raw:
        feats["cos_gap"] = _gap(masks[1])[:, :n]
        # A claim with no Chinese at all (an English forward) has no lexical evidence; these two let the
        # model weigh its embedding figures on their own scale.
        feats["foreign_z"] = feats["foreign"] * feats["cos_z"]
        feats["foreign_gap"] = feats["foreign"] * feats["cos_gap"]
    return feats


def decide(p: np.ndarray, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per claim: best debunk index, its probability, and whether it is an answer."""
    if p.shape[1] == 0:
        zeros = np.zeros(p.shape[0])
        return zeros.astype(int), zeros, zeros.astype(bool)
    best = p.argmax(axis=1)
    p1 = p[np.arange(len(p)), best]
    p2 = np.partition(p, -2, axis=1)[:, -2] if p.shape[1] > 1 else np.zeros(len(p))
    return best, p1, (p1 >= model.threshold) & (p1 - p2 >= model.margin)


def match_claims(*, debunks: Sequence[tuple[str, str]], claims: Sequence[tuple[str, str]],
                 semantic: bool = True) -> list[Match]:
    """One Match per claim, in input order. `semantic=False` is the lexical-only baseline."""
    if not claims:
        return []
    d_text = [normalise(t) for _id, t in debunks]
    c_text = [normalise(t) for _id, t in claims]
    if not debunks:
        return [Match(cid, None, 1.0) for cid, _t in claims]
    restorer = Restorer(d_text)
    c_text = [restorer.restore(t) for t in c_text]
    texts = [*d_text, *background()]
    n = len(d_text)
    raw = raw_lexical(LexicalIndex(texts), c_text)
    feats = assemble(raw, n)
    lexical = models()["lexical"]
    p_lex = lexical.probability(feats)
    best, p1, answered = decide(p_lex, lexical)
    p = p_lex.copy()  # each claim's probabilities from the model that decides it
    model_of = np.zeros(len(claims), dtype=int)  # 0: the lexical model, 1: the combined one
    if semantic:
        # The lexical model answers alone when its best debunk is likely enough and well ahead of the next
        # (its own rule, fitted for the baseline, is stricter than the combined model's).
        p2 = np.partition(p_lex, -2, axis=1)[:, -2] if p_lex.shape[1] > 1 else np.zeros(len(p_lex))
        sure = (p1 >= LEXICAL_SURE) & (p1 - p2 >= SURE_MARGIN)
        answered = answered | sure
        # A Chinese claim that shares (IDF-weighted) under a tenth of its words, characters and sounds
        # with every debunk, or that the lexical model gives under 2 % for its best debunk, is a new
        # claim; an embedding would not make it a match.
        lex = np.maximum(feats["bm25"], feats["sound"])
        remote = (lex.max(axis=1) < NO_CONTACT) | (p1 < LEXICAL_REMOTE)
        unrelated = (raw["foreign"][:, 0] == 0) & remote
        todo = np.flatnonzero(~sure & ~unrelated)
        if len(todo):
            from kepu.rumours.embedding import embed

            sub = {k: v[todo] for k, v in raw.items()}
            raw_semantic(sub, _embed_near_duplicates_once([c_text[i] for i in todo]), embed(texts))
            combined = models()["combined"]
            p_sem = combined.probability(assemble(sub, n))
            b2, q1, a2 = decide(p_sem, combined)
            best[todo], p1[todo], answered[todo] = b2, q1, a2
            p[todo] = p_sem
            model_of[todo] = 1
    # A claim that repeats a debunk's wording about another thing (隔夜茶 for 隔夜水) is never its answer.
    rules = (lexical, models()["combined"])
    for i in np.flatnonzero(answered):
        while answered[i] and another_thing(c_text[i], d_text[int(best[i])], semantic=semantic):
            p[i, best[i]] = 0.0
            b, q, a = decide(p[i : i + 1], rules[model_of[i]])
            best[i], p1[i], answered[i] = b[0], q[0], a[0]
    return [Match(cid, debunks[int(best[i])][0] if answered[i] else None,
                  round(float(p1[i] if answered[i] else 1.0 - p1[i]), 4))
            for i, (cid, _t) in enumerate(claims)]


SYNONYM = 0.95


def another_thing(claim: str, debunk: str, *, semantic: bool) -> bool:
    """Whether the claim swaps a thing of the debunk's for another (`kepu.rumours.lexical.swaps`). With
    embeddings, a swap whose two words embed at cosine ≥ `SYNONYM` is a synonym and does not count:
    孩子 and 儿童 (0.97) name the same thing, while the closest pairs of different things seen are 隔夜茶 and
    隔夜水 (0.94), 鸡精 and 味精 (0.93)."""
    found = swaps(claim, debunk)
    if not found or not semantic:
        return bool(found)
    from kepu.rumours.embedding import embed

    vectors = embed([w for pair in found for w in pair])
    return any(float(vectors[2 * k] @ vectors[2 * k + 1]) < SYNONYM for k in range(len(found)))


def _embed_near_duplicates_once(texts: list[str]) -> np.ndarray:
    """Embeddings of the texts, one per near-duplicate cluster (its first text's): a forward with a
    comment added or an emoji changed is the same claim, and an embedding is most of a match's cost."""
    from kepu.rumours.embedding import embed

    labels = cluster_texts(texts)
    first: dict[int, int] = {}
    for i, label in enumerate(labels):
        first.setdefault(label, i)
    vectors = embed([texts[i] for i in first.values()])
    row = {label: k for k, label in enumerate(first)}
    return vectors[[row[label] for label in labels]]


def cluster_texts(texts: Sequence[str], *, threshold: float = 0.6) -> list[int]:
    """A cluster label per text (0, 1, … in order of first appearance): texts whose normalised forms are
    equal, or whose pinyin syllable pairs overlap by Jaccard ≥ `threshold`, or one of which holds nearly
    all the other's pairs (a forward with a comment added), share a label, transitively.
    Lexical on purpose: near-duplicates (one forward with a typo, an emoji, a different greeting) share
    most of their sounds, and clustering must be cheap enough to run on every arrival."""
    norm = [normalise(t) for t in texts]
    sets = [sound_pairs(t) for t in norm]
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    postings: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        candidates: dict[int, int] = {}
        for tok in s:
            for j in postings.get(tok, ()):
                candidates[j] = candidates.get(j, 0) + 1
            postings.setdefault(tok, []).append(i)
        for j, shared in candidates.items():
            union = len(s) + len(sets[j]) - shared
            smaller = min(len(s), len(sets[j]))
            contained = smaller >= 4 and shared / smaller >= 0.9 and shared / union >= 0.4
            if norm[i] == norm[j] or (union and shared / union >= threshold) or contained:
                parent[root(i)] = root(j)
        if not s:
            for j in range(i):
                if norm[j] == norm[i]:
                    parent[root(i)] = root(j)
                    break
    labels: dict[int, int] = {}
    return [labels.setdefault(root(i), len(labels)) for i in range(len(texts))]


def describe() -> dict[str, Any]:
    """The fitted models, for docs and the monitoring page."""
    return json.loads(CALIBRATION.read_text("utf-8"))
