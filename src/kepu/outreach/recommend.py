"""Recommendations: a ranked feed per citizen.

Each published resource gets a score that blends six signals, each scaled to [0, 1]:

| signal        | what it measures                                                              |
| ------------- | ----------------------------------------------------------------------------- |
| fit           | audience fit: the resource targets the citizen's key groups and age band       |
| interest      | the resource's topics among the citizen's declared interests and the topics    |
|               | of what they opened before                                                    |
| weak          | the resource trains a dimension the citizen is weak in (weak_dimensions):      |
|               | the weakest counts most                                                       |
| fresh         | recency: exp(-age / FRESH_DAYS)                                               |
| popular       | log-scaled count of interactions in the last POPULAR_DAYS                      |
| collaborative | item–item cosine co-occurrence (people who opened X also opened Y), summed     |
|               | over the citizen's history                                                    |

The weights are in WEIGHTS (personal) and NON_PERSONAL (no consent "personalise", or nobody logged
in: regional fit and popularity only, nothing derived from the person). Resources for another
region never appear (kepu.outreach.selectors.published_resources); completed ones are dropped, seen
ones pushed down.

The maths (`score`) is pure numpy/scipy so the offline evaluation (kepu.outreach.evaluate) ranks a
synthetic log with exactly the function the feed uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from kepu.citizens.models import Citizen
    from kepu.outreach.models import Resource

WEIGHTS: dict[str, float] = {
    "fit": 0.6,
    "interest": 1.2,
    "weak": 0.5,
    "fresh": 0.3,
    "popular": 0.5,
    "collaborative": 1.6,
}
NON_PERSONAL: dict[str, float] = {"fit": 0.4, "fresh": 0.3, "popular": 1.0}
# How much the weakest, second, third … dimension counts in "weak".
WEAK_RANK_WEIGHTS = (1.0, 0.6, 0.3, 0.1)
SEEN_PENALTY = 0.5  # a resource already viewed (not completed) keeps this share of its score
FRESH_DAYS = 60.0
POPULAR_DAYS = 30
MAX_CANDIDATES = 2000


@dataclass(frozen=True)
class Items:
    """Catalogue features, one entry per resource (index = position)."""

    topics: Sequence[frozenset[str]]
    dimensions: Sequence[tuple[str, ...]]
    key_groups: Sequence[frozenset[str]]
    age_bands: Sequence[frozenset[str]]
    age_days: np.ndarray  # days since publication
    popularity: np.ndarray  # recent interaction counts

    def __len__(self) -> int:
        return len(self.topics)


@dataclass
class Person:
    """What the ranker knows about one person: observed profile and history only."""

    key_groups: frozenset[str] = frozenset()
    age_band: str = ""
    interests: frozenset[str] = frozenset()
    weak: tuple[str, ...] = ()
    seen: set[int] = field(default_factory=set)  # item indices viewed/opened
    done: set[int] = field(default_factory=set)  # item indices completed (dropped from the feed)
    personal: bool = True


def cooccurrence(user_items: sp.spmatrix, n_items: int) -> sp.csr_matrix:
    """Item–item cosine similarity from a binary user × item matrix (diagonal zero)."""
    x = sp.csr_matrix(user_items, dtype=np.float64, shape=(user_items.shape[0], n_items))
    x.data[:] = 1.0
    c = (x.T @ x).tocsr()
    c.setdiag(0)
    c.eliminate_zeros()
    deg = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    deg[deg == 0] = 1.0
    inv = sp.diags(1.0 / deg)
    return (inv @ c @ inv).tocsr()


def _fit(items: Items, p: Person) -> np.ndarray:
    out = np.empty(len(items))
    for i in range(len(items)):
        kg = items.key_groups[i]
        bands = items.age_bands[i]
        g = 0.5 if not kg else (1.0 if kg & p.key_groups else 0.0)
        a = 0.5 if not bands else (1.0 if p.age_band in bands else 0.0)
        out[i] = (g + a) / 2
    return out


def _interest(items: Items, p: Person) -> np.ndarray:
    history: dict[str, float] = {}
    for i in p.seen | p.done:
        for t in items.topics[i]:
            history[t] = history.get(t, 0.0) + 1.0
    top = max(history.values(), default=1.0)
    out = np.zeros(len(items))
    for i, topics in enumerate(items.topics):
        if not topics:
            continue
        declared = len(topics & p.interests) / len(topics)
        past = max((history.get(t, 0.0) for t in topics), default=0.0) / top
        out[i] = 0.6 * declared + 0.4 * past
    return out


def _weak(items: Items, p: Person) -> np.ndarray:
    rank = {d: WEAK_RANK_WEIGHTS[k] for k, d in enumerate(p.weak[: len(WEAK_RANK_WEIGHTS)])}
    return np.array([max((rank.get(d, 0.0) for d in dims), default=0.0) for dims in items.dimensions])


def _scaled(x: np.ndarray) -> np.ndarray:
    top = float(x.max()) if x.size else 0.0
    return x / top if top > 0 else np.zeros_like(x)


def signals(items: Items, p: Person, sim: sp.csr_matrix | None) -> dict[str, np.ndarray]:
    fresh = np.exp(-np.maximum(items.age_days, 0.0) / FRESH_DAYS)
    popular = _scaled(np.log1p(np.maximum(items.popularity, 0.0)))
    if not p.personal:
        return {"fit": _fit(items, Person()), "fresh": fresh, "popular": popular}
    history = sorted(p.seen | p.done)
    collab = np.zeros(len(items))
    if sim is not None and history:
        collab = _scaled(np.asarray(sim[history].sum(axis=0)).ravel())
    return {
        "fit": _fit(items, p),
        "interest": _interest(items, p),
        "weak": _weak(items, p),
        "fresh": fresh,
        "popular": popular,
        "collaborative": collab,
    }


def score(items: Items, p: Person, sim: sp.csr_matrix | None = None,
          weights: dict[str, float] | None = None) -> np.ndarray:
    """One score per item; -inf for items the person completed."""
    weights = weights if weights is not None else (WEIGHTS if p.personal else NON_PERSONAL)
    s = signals(items, p, sim)
    total = np.zeros(len(items))
    for name, w in weights.items():
        if name in s:
            total += w * s[name]
    for i in p.seen:
        total[i] *= SEEN_PENALTY
    for i in p.done:
        total[i] = -np.inf
    return total


def top_k(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k best scores, best first (ties: lower index first), never -inf ones."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [int(i) for i in order[:k] if np.isfinite(scores[i])]


# --- the database side -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    resource: Resource
    score: float
    reasons: tuple[str, ...]  # signal names that contributed most


@dataclass
class _Catalogue:
    resources: list[Resource]
    items: Items
    regions: list[frozenset[str]]  # paths of each resource's regions (empty: whole city)
    sim: sp.csr_matrix | None


def _catalogue(now: dt.datetime) -> _Catalogue:
    """Every published resource (newest first, at most MAX_CANDIDATES) with its features and the
    item–item similarity; a citizen's feed then keeps those for their region."""
    from django.db.models import Count, Q

    from kepu.outreach.selectors import published_resources

    since = now - dt.timedelta(days=POPULAR_DAYS)
    qs = (
        published_resources()
        .prefetch_related("topics__parent", "regions")
        .annotate(recent=Count("interactions", filter=Q(interactions__at__gte=since), distinct=True))
        .order_by("-published_at", "pk")[:MAX_CANDIDATES]
    )
    resources: list[Resource] = list(qs)
    items = Items(
        topics=[frozenset(c for t in r.topics.all() for c in (t.code, t.parent.code if t.parent else "") if c)
                for r in resources],
        dimensions=[tuple(r.dimensions or ()) for r in resources],
        key_groups=[frozenset(r.key_groups or ()) for r in resources],
        age_bands=[frozenset(r.age_bands or ()) for r in resources],
        age_days=np.array([((now - (r.published_at or r.updated_at)).total_seconds() / 86400) for r in resources]),
        popularity=np.array([float(getattr(r, "recent", 0)) for r in resources]),
    )
    regions = [frozenset(u.path for u in r.regions.all()) for r in resources]
    return _Catalogue(resources, items, regions, _similarity(resources))


def _similarity(resources: list[Resource]) -> sp.csr_matrix | None:
    """Co-occurrence over citizens' interactions with these resources, cached until a new
    interaction arrives (keyed by the newest interaction id and the candidate list)."""
    from django.core.cache import cache

    from kepu.outreach.engagement_models import Interaction

    index = {r.pk: i for i, r in enumerate(resources)}
    latest = Interaction.objects.order_by("-pk").values_list("pk", flat=True).first()
    if latest is None or not index:
        return None
    key = f"outreach:cooc:{latest}:{hash(tuple(index))}"
    sim: sp.csr_matrix | None = cache.get(key)
    if sim is not None:
        return sim
    pairs = (
        Interaction.objects.filter(citizen__isnull=False, resource_id__in=list(index))
        .exclude(kind=Interaction.Kind.SEARCH)
        .values_list("citizen_id", "resource_id")
        .distinct()
    )
    users: dict[int, int] = {}
    rows, cols = [], []
    for citizen_id, resource_id in pairs.iterator(chunk_size=5000):
        rows.append(users.setdefault(citizen_id, len(users)))
        cols.append(index[resource_id])
    if not rows:
        return None
    x = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(users), len(resources)))
    sim = cooccurrence(x, len(resources))
    cache.set(key, sim, 600)
    return sim


def _region_mask(cat: _Catalogue, citizen: Citizen | None) -> np.ndarray:
    """Resources for the whole city, or for a unit at or above the citizen's town/district."""
    unit = None if citizen is None else (citizen.town or citizen.district)
    mine = frozenset() if unit is None else frozenset(
        "/" + "/".join(unit.path.strip("/").split("/")[: k + 1]) + "/"
        for k in range(len(unit.path.strip("/").split("/")))
    )
    return np.array([not regs or bool(regs & mine) for regs in cat.regions], dtype=bool)


def _latest_consents(citizen_ids: list[int], purposes: tuple[str, ...]) -> dict[tuple[int, str], bool]:
    from kepu.citizens.models import Consent

    out: dict[tuple[int, str], bool] = {}
    rows = (
        Consent.objects.filter(citizen_id__in=citizen_ids, purpose__in=purposes)
        .order_by("at", "id")
        .values_list("citizen_id", "purpose", "granted")
    )
    for citizen_id, purpose, granted in rows.iterator(chunk_size=5000):
        out[(citizen_id, purpose)] = granted  # the latest row wins
    return out


def _people(citizens: list[Citizen], index: dict[int, int], personal: dict[int, bool]) -> dict[int, Person]:
    """Profiles and histories of many citizens in a few queries."""
    from kepu.outreach.engagement_models import Interaction
    from kepu.outreach.weakness import group_weak_dimensions, latest_wave, order_weakest

    ids = [c.pk for c in citizens if personal[c.pk]]
    seen: dict[int, set[int]] = {i: set() for i in ids}
    done: dict[int, set[int]] = {i: set() for i in ids}
    events = (
        Interaction.objects.filter(citizen_id__in=ids, resource__isnull=False)
        .exclude(kind=Interaction.Kind.SEARCH)
        .values_list("citizen_id", "resource_id", "kind")
    )
    for citizen_id, resource_id, kind in events.iterator(chunk_size=5000):
        if resource_id in index:
            (done if kind == Interaction.Kind.COMPLETE else seen)[citizen_id].add(index[resource_id])
    own = _own_selftests(ids)
    wave = latest_wave()
    group_cache: dict[tuple[Any, ...], tuple[str, ...]] = {}
    people: dict[int, Person] = {}
    for c in citizens:
        if not personal[c.pk]:
            people[c.pk] = Person(personal=False)
            continue
        if c.pk in own:
            weak = tuple(order_weakest(own[c.pk]))
        else:
            key = (tuple(sorted(c.key_groups or ())), c.district_id)
            if key not in group_cache:
                group_cache[key] = tuple(group_weak_dimensions(c, wave)) if wave else ()
            weak = group_cache[key]
        people[c.pk] = Person(
            key_groups=frozenset(c.key_groups or ()), age_band=c.age_band, interests=frozenset(c.interests or ()),
            weak=weak, seen=seen[c.pk] - done[c.pk], done=done[c.pk],
        )
    return people


def _own_selftests(citizen_ids: list[int]) -> dict[int, dict[str, float]]:
    """Latest linked self-test per citizen, for those whose consent "selftest_link" stands."""
    from kepu.citizens.models import SelfTestResult

    linked = [cid for (cid, _p), ok in _latest_consents(citizen_ids, ("selftest_link",)).items() if ok]
    out: dict[int, dict[str, float]] = {}
    rows = SelfTestResult.objects.filter(citizen_id__in=linked).order_by("finished_at", "id")
    for citizen_id, dims in rows.values_list("citizen_id", "dims"):
        out[citizen_id] = {k: float(v) for k, v in (dims or {}).items()}
    return out


def _reasons(sig: dict[str, np.ndarray], weights: dict[str, float], i: int) -> tuple[str, ...]:
    parts = sorted(((weights[n] * v[i], n) for n, v in sig.items() if n in weights), reverse=True)
    return tuple(n for c, n in parts[:2] if c > 0)


def feed_many(
    citizens: Sequence[Citizen | None], *, limit: int = 20, now: dt.datetime | None = None
) -> list[list[FeedItem]]:
    """Feeds for many citizens at once (the catalogue, similarity, consents and histories are read
    once); None stands for a visitor."""
    from django.utils import timezone

    now = now or timezone.now()
    cat = _catalogue(now)
    if not cat.resources:
        return [[] for _ in citizens]
    index = {r.pk: i for i, r in enumerate(cat.resources)}
    real = [c for c in citizens if c is not None]
    consents = _latest_consents([c.pk for c in real], ("personalise",))
    personal = {c.pk: consents.get((c.pk, "personalise"), False) for c in real}
    people = _people(real, index, personal)
    masks: dict[Any, np.ndarray] = {}
    out: list[list[FeedItem]] = []
    for c in citizens:
        p = people[c.pk] if c is not None else Person(personal=False)
        unit_key = None if c is None else (c.town_id or c.district_id)
        if unit_key not in masks:
            masks[unit_key] = _region_mask(cat, c)
        sim = cat.sim if p.personal else None
        weights = WEIGHTS if p.personal else NON_PERSONAL
        s = score(cat.items, p, sim, weights)
        s[~masks[unit_key]] = -np.inf
        sig = signals(cat.items, p, sim)
        out.append([FeedItem(cat.resources[i], float(s[i]), _reasons(sig, weights, i)) for i in top_k(s, limit)])
    return out


def feed(citizen: Citizen | None, *, limit: int = 20, now: dt.datetime | None = None) -> list[FeedItem]:
    """The ranked feed for a citizen; for None (a visitor) or without consent "personalise", the
    non-personal ranking (regional fit and popularity)."""
    return feed_many([citizen], limit=limit, now=now)[0]
