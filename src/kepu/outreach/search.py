"""Chinese full-text search over published resources, the same on SQLite and PostgreSQL: the index is
built in Python, per process, and rebuilt when the catalogue changes.

Text and queries go through one normaliser and tokeniser (kepu.core.chinese): NFKC, lower case and
OpenCC traditional → simplified, so 預防高血壓 finds 预防高血压; then two kinds of tokens go into one BM25
index (bm25s): jieba words with the project's user dictionary, and character bigrams. Words rank
precisely; bigrams carry typo tolerance: one wrong character in 糖尿病预防 spoils at most two of its
four bigrams, so the right piece still shares most of its tokens with the query. We chose
this over pinyin or edit distance over the whole vocabulary because a typo usually changes how jieba
cuts the query, and bigrams do not depend on the cut. A query word missing from the vocabulary is also
replaced by vocabulary words one substitution away (same length, found through wildcard keys), for
Chinese words of three or more characters and Latin words of four or more letters (in a two-character
word one substitution is half the word: 流感 would become 流传); a missing or extra letter in a Latin
word is not caught (English is the second language here).

Titles count three times, summaries and topic names twice, bodies once. The cache key is a version
counter in Django's cache (bumped on commit of every publish, archive or edit of a published piece, so
every web worker rebuilds) plus the number and latest change of published pieces (so a rolled-back
test or a direct database edit cannot serve a stale index)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache as django_cache
from django.db.models import Count, Max

from kepu.core import chinese

if TYPE_CHECKING:
    from kepu.outreach.models import Resource

VERSION_KEY = "kepu:outreach:search-version"
TITLE_WEIGHT, SUMMARY_WEIGHT = 3, 2
# The normaliser and tokeniser live in kepu.core.chinese (rumour matching uses them too, without Django).
_tokenizer = chinese.tokenizer
normalise = chinese.normalise
tokens = chinese.tokens
BIGRAM = chinese.BIGRAM
STOPWORDS = chinese.STOPWORDS
userdict_path = chinese.userdict_path


def _document(resource: Resource) -> list[str]:
    from kepu.outreach.sanitize import html_to_text

    topics = " ".join(f"{t.name_zh} {t.name_en}" for t in resource.topics.all())
    title = f"{resource.title_zh} {resource.title_en}"
    summary = f"{resource.summary_zh} {resource.summary_en} {topics}"
    body = f"{html_to_text(resource.body_zh)} {html_to_text(resource.body_en)}"
    return tokens(title) * TITLE_WEIGHT + tokens(summary) * SUMMARY_WEIGHT + tokens(body)


@dataclass
class Index:
    key: tuple[Any, ...]
    ids: list[int]
    retriever: Any  # bm25s.BM25, or None for an empty catalogue
    vocabulary: frozenset[str]
    neighbours: dict[str, list[str]]  # wildcard key (one character replaced by "?") -> vocabulary words

    def corrected(self, word: str) -> list[str]:
        if word in self.vocabulary or word.startswith(BIGRAM) or len(word) < (4 if word.isascii() else 3):
            return [word]
        near = {w for k in _wildcards(word) for w in self.neighbours.get(k, [])}
        return sorted(near) or [word]


def _wildcards(word: str) -> list[str]:
    return [f"{word[:i]}?{word[i + 1 :]}" for i in range(len(word))]


def bump_version() -> None:
    try:
        django_cache.incr(VERSION_KEY)
    except ValueError:
        django_cache.add(VERSION_KEY, 1, timeout=None) or django_cache.incr(VERSION_KEY)


def _key() -> tuple[Any, ...]:
    from kepu.outreach.selectors import published_resources

    stats = published_resources().order_by().aggregate(n=Count("pk"), last=Max("updated_at"))
    return (django_cache.get(VERSION_KEY, 0), stats["n"], stats["last"])


_lock = threading.Lock()
_index: Index | None = None


def _build(key: tuple[Any, ...]) -> Index:
    import bm25s

    from kepu.outreach.selectors import published_resources

    resources = list(published_resources().order_by("pk"))
    corpus = [_document(r) for r in resources]
    vocabulary = frozenset(t for doc in corpus for t in doc if not t.startswith(BIGRAM))
    neighbours: dict[str, list[str]] = {}
    for word in vocabulary:
        if len(word) >= 2:
            for k in _wildcards(word):
                neighbours.setdefault(k, []).append(word)
    retriever = None
    if resources:
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
    return Index(key, [r.pk for r in resources], retriever, vocabulary, neighbours)


def index() -> Index:
    global _index
    key = _key()
    current = _index
    if current is not None and current.key == key:
        return current
    with _lock:
        if _index is None or _index.key != key:
            _index = _build(key)
        return _index


def search(query: str, *, limit: int = 20) -> list[tuple[Resource, float]]:
    """Published resources matching the query, best first, with their BM25 scores (> 0)."""
    from kepu.outreach.models import Resource

    idx = index()
    if idx.retriever is None:
        return []
    vocab = idx.retriever.vocab_dict
    query_tokens = [t for word in tokens(query[:200]) for t in idx.corrected(word) if t in vocab]
    if not query_tokens:
        return []
    scores = idx.retriever.get_scores(query_tokens)
    ranked = sorted(((float(s), i) for i, s in enumerate(scores) if s > 0), key=lambda x: (-x[0], x[1]))[:limit]
    by_id = Resource.objects.prefetch_related("topics").in_bulk([idx.ids[i] for _s, i in ranked])
    return [(by_id[idx.ids[i]], round(s, 6)) for s, i in ranked if idx.ids[i] in by_id]
