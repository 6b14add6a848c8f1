"""Demand sensing (科普需求感知分析): which search terms and viewed topics are rising, per district and key
group, set against what the catalogue offers.

Terms: every search query is normalised like the search index does (full-width → half-width, lower
case, traditional → simplified) and its keywords are drawn with jieba's TF-IDF keyword extractor
(jieba.analyse) running on the project's tokenizer (with the user dictionary), so 隔夜水 stays one
word. A term's count in a window is the number of distinct searchers who used it (a person asking
the same thing ten times counts once); anonymous visitors count under their daily pseudonym.

Rising: the current window (the last `days` days) against the one before it, equally long. The
question is whether more of the platform's active residents ask about the term than before, so the
test conditions on how many were active: given n = c_now + c_before people using the term, under
"no change" c_now is binomial with p = A_now / (A_now + A_before), where A is the number of distinct
people with any event in the window (the usual exact test for two Poisson rates with different
exposures). Activity, not all searching, is the exposure: when a worry spreads, the rising terms
make up much of the searching themselves and would hide their own rise. A term rises when it has at
least MIN_COUNT people now, more than expected, and a one-sided p below ALPHA. Without any activity
in the previous window nothing can be called rising. Topics are tested the same way, counting
distinct viewers of published pieces on the topic.

Gaps: a rising term for which fewer than GAP_BELOW published pieces contain the term (found through
kepu.outreach.search, then checked for the term in title, summary, topics or text so that a loose
character-bigram match does not count as covering it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from scipy.stats import binomtest

from kepu.core.models import OrgUnit
from kepu.core.scope import Scope
from kepu.outreach import search
from kepu.outreach.engagement import ANON_PREFIX, covers_city, district_filter
from kepu.outreach.engagement_models import Interaction

MIN_COUNT = 5
ALPHA = 0.05
GAP_BELOW = 2
KEYWORDS_PER_QUERY = 3


@dataclass
class Trend:
    key: str  # the term, or the topic code
    label: str
    now: int  # distinct people in the current window
    before: int  # in the previous window
    expected: float  # what `now` would be with an unchanged share
    p_value: float
    rising: bool
    resources: list[Any] = field(default_factory=list)  # published pieces covering a term

    @property
    def gap(self) -> bool:
        return self.rising and len(self.resources) < GAP_BELOW

    @property
    def ratio(self) -> float | None:
        return round(self.now / self.expected, 2) if self.expected else None


@dataclass
class Demand:
    start: dt.date  # first day of the current window
    end: dt.date  # last day of the current window
    days: int
    terms: list[Trend]
    topics: list[Trend]

    @property
    def gaps(self) -> list[Trend]:
        return [t for t in self.terms if t.gap]


@cache
def _extractor() -> Any:
    import jieba.analyse

    tfidf = jieba.analyse.TFIDF()
    tfidf.tokenizer = search._tokenizer()  # the project user dictionary
    tfidf.stop_words = set(tfidf.stop_words) | set(search.STOPWORDS)
    return tfidf


def keywords(query: str) -> list[str]:
    """The query's keywords (at most KEYWORDS_PER_QUERY), normalised as the search index is."""
    return list(_keywords(search.normalise(query)[:200]))


@lru_cache(maxsize=20000)  # people ask the same few things: cut each query once per process
def _keywords(text: str) -> tuple[str, ...]:
    words = _extractor().extract_tags(text, topK=KEYWORDS_PER_QUERY)
    return tuple(w for w in words if len(w) > 1 or not w.isascii())


def rise_test(now: int, before: int, total_now: int, total_before: int) -> tuple[float, float]:
    """(expected count now, one-sided p) for a count that kept its share of the exposure (the
    number of active people in each window)."""
    total = total_now + total_before
    n = now + before
    if total_before == 0 or total_now == 0 or n == 0:
        return float(now), 1.0
    share = total_now / total
    return n * share, float(binomtest(now, n, share, alternative="greater").pvalue)


def _rows(scope: Scope, district: OrgUnit | None, group: str) -> QuerySet[Interaction]:
    """Events that count for demand: citizens with analytics consent (in the user's scope), and
    anonymous visitors when the user sees the whole city (their district is unknown)."""
    rows = Interaction.objects.exclude(pseudonym="")
    citizens = ~Q(pseudonym__startswith=ANON_PREFIX) & district_filter(scope)
    if district is None and not group and (scope.superuser or covers_city(scope)):
        rows = rows.filter(citizens | Q(pseudonym__startswith=ANON_PREFIX))
    else:
        rows = rows.filter(citizens)
    if district is not None:
        rows = rows.filter(district=district)
    if group:
        rows = rows.filter(pseudonym__in=_group_members(rows, group))
    return rows


def _group_members(rows: QuerySet[Interaction], group: str) -> list[str]:
    # Key groups are a JSON list copied onto each row; read in Python to stay portable (SQLite/PostgreSQL).
    pairs = rows.values_list("pseudonym", "key_groups").distinct()
    return sorted({p for p, groups in pairs if group in (groups or [])})


def _term_people(rows: QuerySet[Interaction]) -> dict[str, set[str]]:
    people: dict[str, set[str]] = {}
    for pseudonym, query in rows.filter(kind=Interaction.Kind.SEARCH).exclude(query="").values_list(
        "pseudonym", "query"
    ).distinct().iterator():
        for word in keywords(query):
            people.setdefault(word, set()).add(pseudonym)
    return people


def _topic_people(rows: QuerySet[Interaction]) -> tuple[dict[str, int], dict[str, str]]:
    data = (
        rows.filter(kind__in=(Interaction.Kind.VIEW, Interaction.Kind.OPEN)).exclude(resource=None)
        .exclude(resource__topics=None)
        .values("resource__topics__code", "resource__topics__name_zh", "resource__topics__name_en")
        .annotate(n=Count("pseudonym", distinct=True))
    )
    counts = {r["resource__topics__code"]: r["n"] for r in data}
    names = {r["resource__topics__code"]: _name(r["resource__topics__name_zh"], r["resource__topics__name_en"])
             for r in data}
    return counts, names


def _name(zh: str, en: str) -> str:
    from django.utils.translation import get_language

    return (en or zh) if (get_language() or "").startswith("en") else zh


def _trends(
    now: dict[str, int], before: dict[str, int], labels: dict[str, str], active: tuple[int, int]
) -> list[Trend]:
    total_now, total_before = active
    out = []
    for key, c in now.items():
        b = before.get(key, 0)
        expected, p = rise_test(c, b, total_now, total_before)
        rising = c >= MIN_COUNT and c > expected and p < ALPHA
        out.append(Trend(key, labels.get(key, key), c, b, round(expected, 2), round(p, 6), rising))
    return sorted(out, key=lambda t: (not t.rising, t.p_value, -t.now, t.key))


def covering(term: str, *, limit: int = 20) -> list[Any]:
    """Published pieces that really contain the term (through the search index, then checked)."""
    from kepu.outreach.sanitize import html_to_text

    norm = search.normalise(term)
    found = []
    for resource, _score in search.search(term, limit=limit):
        text = " ".join([
            resource.title_zh, resource.title_en, resource.summary_zh, resource.summary_en,
            html_to_text(resource.body_zh), *(t.name_zh for t in resource.topics.all()),
        ])
        if norm in search.normalise(text):
            found.append(resource)
    return found


def demand(
    *, scope: Scope, end: dt.date | None = None, days: int = 28, district: OrgUnit | None = None,
    group: str = "", limit: int = 30,
) -> Demand:
    """Trending terms and topics for the user's scope (optionally one district and/or key group)
    over the `days` days ending on `end` (today by default) against the `days` before."""
    end = end or timezone.localdate()
    start = end - dt.timedelta(days=days - 1)
    before_start = start - dt.timedelta(days=days)
    rows = _rows(scope, district, group)
    current = rows.filter(at__date__gte=start, at__date__lte=end)
    previous = rows.filter(at__date__gte=before_start, at__date__lt=start)
    terms_now = {k: len(v) for k, v in _term_people(current).items()}
    terms_before = {k: len(v) for k, v in _term_people(previous).items()}
    active = (current.values("pseudonym").distinct().count(), previous.values("pseudonym").distinct().count())
    terms = _trends(terms_now, terms_before, {}, active)[:limit]
    for t in terms:
        if t.rising:
            t.resources = covering(t.key)
    topics_now, names = _topic_people(current)
    topics_before, _names = _topic_people(previous)
    topics = _trends(topics_now, topics_before, names, active)[:limit]
    return Demand(start=start, end=end, days=days, terms=terms, topics=topics)
