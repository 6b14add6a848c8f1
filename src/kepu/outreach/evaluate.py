"""Offline evaluation of the feed ranking on a synthetic interaction log.

The generator draws people and items from LATENT factors the ranker never sees:
- each person has a topic-affinity vector (Dirichlet, a few strong topics), a latent skill per
  literacy dimension, a key group and an age band;
- each item has topics, dimensions, optional target groups/bands, a latent appeal and an age;
- a person's interactions are drawn without replacement (Gumbel top-k) with utility
  3·affinity(item topics) + 0.8·(1 - skill in the item's dimensions) + 0.6·[targets the person's
  group] + appeal + freshness, i.e. not the ranker's blend.

What the ranker sees is only what the platform would observe: declared interests (two of the
person's strongest topics, each replaced by a random topic with probability 0.3), weak dimensions
from a noisy self-test for half of the people (the other half get their group's average, as from a
survey wave), item metadata, and the training part of the log.

Split: per person, the latest 20 % of their interactions (at least one) are held out. Both the model
(kepu.outreach.recommend.score) and the popularity baseline (training counts) rank every item the
person has not interacted with in training; recall@10 and nDCG@10 (binary relevance) are averaged
over people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from kepu.outreach.recommend import Items, Person, cooccurrence, score, top_k

DIMS = ("knowledge", "method", "spirit", "application")
GROUPS = ("youth", "farmers", "workers", "elderly", "officials")
BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
K = 10


@dataclass(frozen=True)
class Catalogue:
    """Item metadata, from the database or made up."""

    topics: list[frozenset[str]]
    dimensions: list[tuple[str, ...]]
    key_groups: list[frozenset[str]]
    age_bands: list[frozenset[str]]
    source: str  # "database" | "synthetic"


def synthetic_catalogue(rng: np.random.Generator, n_items: int = 400, n_topics: int = 14) -> Catalogue:
    codes = [f"t{i:02d}" for i in range(n_topics)]
    topics, dims, groups, bands = [], [], [], []
    for _ in range(n_items):
        topics.append(frozenset(rng.choice(codes, size=rng.integers(1, 3), replace=False).tolist()))
        dims.append(tuple(rng.choice(DIMS, size=rng.integers(1, 3), replace=False).tolist()))
        groups.append(frozenset(rng.choice(GROUPS, size=rng.integers(1, 3), replace=False).tolist())
                      if rng.random() < 0.4 else frozenset())
        bands.append(frozenset(BANDS[3:]) if rng.random() < 0.15 else frozenset())
    return Catalogue(topics, dims, groups, bands, "synthetic")


def database_catalogue() -> Catalogue | None:
    """The published catalogue, when there is a database with enough of it; None otherwise (no
    database, no tables, or fewer than 30 published resources)."""
    try:
        from django.db import DatabaseError

        from kepu.outreach.selectors import published_resources

        try:
            resources = list(published_resources().prefetch_related("topics"))
        except DatabaseError:
            return None
    except Exception:  # no Django set up: the pure in-memory path
        return None
    if len(resources) < 30:
        return None
    return Catalogue(
        [frozenset(t.code for t in r.topics.all()) for r in resources],
        [tuple(r.dimensions or ()) for r in resources],
        [frozenset(r.key_groups or ()) for r in resources],
        [frozenset(r.age_bands or ()) for r in resources],
        "database",
    )


@dataclass
class Log:
    catalogue: Catalogue
    age_days: np.ndarray
    people: list[Person]  # observed profiles, no history yet
    train: list[list[int]]  # per person, item indices in time order
    test: list[set[int]]


def synthetic_log(catalogue: Catalogue, rng: np.random.Generator, n_people: int = 1500) -> Log:
    m = len(catalogue.topics)
    all_topics = sorted({t for ts in catalogue.topics for t in ts}) or ["general"]
    tix = {t: i for i, t in enumerate(all_topics)}
    appeal = rng.normal(0.0, 0.7, m)
    age_days = rng.uniform(0, 365, m)
    group_skill_shift = {g: rng.normal(0, 0.6, len(DIMS)) for g in GROUPS}

    people: list[Person] = []
    train: list[list[int]] = []
    test: list[set[int]] = []
    for _ in range(n_people):
        group = str(rng.choice(GROUPS))
        band = str(rng.choice(BANDS))
        affinity = rng.dirichlet(np.full(len(all_topics), 0.3))
        skill = group_skill_shift[group] + rng.normal(0, 0.8, len(DIMS))
        weakness = 1.0 / (1.0 + np.exp(skill))  # in (0, 1): high when skill is low

        util = np.empty(m)
        for i in range(m):
            aff = max((affinity[tix[t]] for t in catalogue.topics[i] if t in tix), default=0.0)
            weak = max((weakness[DIMS.index(d)] for d in catalogue.dimensions[i] if d in DIMS), default=0.0)
            target = 1.0 if group in catalogue.key_groups[i] else 0.0
            util[i] = 3.0 * aff * len(all_topics) ** 0.5 + 0.8 * weak + 0.6 * target + appeal[i] \
                - age_days[i] / 365
        n = int(min(m - 1, 4 + rng.poisson(12)))
        chosen = np.argsort(-(util + rng.gumbel(size=m)))[:n]
        order = rng.permutation(chosen).tolist()  # the order people happened to open them in
        cut = max(1, round(0.2 * len(order)))
        train.append(order[:-cut])
        test.append(set(order[-cut:]))

        strongest = np.argsort(-affinity)[:2]
        declared = {all_topics[j] if rng.random() > 0.3 else all_topics[int(rng.integers(len(all_topics)))]
                    for j in strongest}
        # Half have an own (noisy) self-test; the others get their group's, as a survey wave shows it.
        observed = skill + rng.normal(0, 0.5, len(DIMS)) if rng.random() < 0.5 else group_skill_shift[group]
        weak_order = tuple(DIMS[j] for j in np.argsort(observed))
        people.append(Person(key_groups=frozenset({group}), age_band=band, interests=frozenset(declared),
                             weak=weak_order))
    return Log(catalogue, age_days, people, train, test)


def _metrics(ranked: list[int], relevant: set[int]) -> tuple[float, float]:
    hits = [1.0 if i in relevant else 0.0 for i in ranked[:K]]
    recall = sum(hits) / len(relevant)
    dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(K, len(relevant))))
    return recall, dcg / ideal


def evaluate(*, seed: int = 7, n_people: int = 1500, use_database: bool = True) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    catalogue = (database_catalogue() if use_database else None) or synthetic_catalogue(rng)
    log = synthetic_log(catalogue, rng, n_people)
    m = len(catalogue.topics)

    rows = [u for u, items in enumerate(log.train) for _ in items]
    cols = [i for items in log.train for i in items]
    x = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(log.train), m))
    popularity = np.asarray(x.sum(axis=0)).ravel()
    sim = cooccurrence(x, m)
    items = Items(catalogue.topics, catalogue.dimensions, catalogue.key_groups, catalogue.age_bands,
                  log.age_days, popularity)

    totals = {"model": np.zeros(2), "popularity": np.zeros(2)}
    for person, history, relevant in zip(log.people, log.train, log.test, strict=True):
        person.seen = set()
        person.done = set(history)  # already opened in training: not recommended again
        model = top_k(score(items, person, sim), K)
        pop = popularity.astype(float).copy()
        pop[list(history)] = -np.inf
        baseline = top_k(pop, K)
        totals["model"] += _metrics(model, relevant)
        totals["popularity"] += _metrics(baseline, relevant)
    n = len(log.people)
    return {
        side: {"recall@10": round(float(v[0] / n), 4), "ndcg@10": round(float(v[1] / n), 4)}
        for side, v in totals.items()
    }


# --- `kepu outreach evaluate` ----------------------------------------------------------------------

HELP = "Offline evaluation of the feed ranking against popularity on a synthetic interaction log."


def add_arguments(parser: Any) -> None:
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the synthetic log (default 7)")
    parser.add_argument("--people", type=int, default=1500, help="synthetic people (default 1500)")
    parser.add_argument("--synthetic-catalogue", action="store_true",
                        help="make up the catalogue even when the database has one")


def run(opts: dict[str, Any], stdout: Any) -> None:
    import json

    from kepu.core.errors import InputError

    if not 50 <= opts["people"] <= 200_000:
        raise InputError("--people: expected a number from 50 to 200000.")
    result = evaluate(seed=opts["seed"], n_people=opts["people"], use_database=not opts["synthetic_catalogue"])
    if opts["json"]:
        stdout.write(json.dumps(result))
        return
    for side, figures in result.items():
        stdout.write(f"{side:<11} recall@10 {figures['recall@10']:.4f}  ndcg@10 {figures['ndcg@10']:.4f}")
