"""Lexical similarity of claims to debunks, on normalised text (`kepu.rumours.normalise`).

Two scores per (claim, debunk) pair, both scaled so that 1 means "the claim contains the whole debunk":
- **BM25** (bm25s) over jieba words and character bigrams, the tokens of the catalogue search
  (`kepu.core.chinese.tokens`, with jieba's compact dictionary), divided by the debunk's score against
  itself;
- **sound overlap**: the IDF-weighted share of the debunk's pinyin syllable pairs that the claim also
  has. 鸡站 and 基站 are both "ji zhan", so a homophone typo costs nothing here while it spoils the
  character tokens; pinyin written in Latin letters (致ai) meets its character (癌) the same way."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

import numpy as np
from scipy import sparse

from kepu.core.chinese import tokens

_CJK_OR_WORD = re.compile(r"[\u3400-\u9fff]|[a-z]+|\d+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"(?<![a-z0-9])[a-z]+(?![a-z0-9])")


@cache
def _pinyin_module() -> Any:
    import pypinyin

    return pypinyin


@lru_cache(maxsize=65536)
def sound(ch: str) -> str:
    """Toneless pinyin of one character. Character by character (not pypinyin's phrase rules): a polyphone
    always reads the same way, which is what a comparison of sounds needs, and it can be cached."""
    return str(_pinyin_module().lazy_pinyin(ch)[0])


def syllables(text: str) -> list[str]:
    """Toneless pinyin of each Chinese character, and Latin words and numbers as they are."""
    return [sound(p) if "\u3400" <= p[0] <= "\u9fff" else p for p in _CJK_OR_WORD.findall(text)]


class Restorer:
    """Writes pinyin back in characters, using the debunks' own characters: a Latin run that touches a
    Chinese character and spells syllables (kou罩, xue压, 打的yimiao里面) becomes the debunk characters
    with those sounds, each chosen to form character pairs the debunks contain with its neighbours.
    Embeddings and character tokens then see 口罩 rather than kou罩, as the sound tokens already did.
    A run set apart by spaces is left alone: it is more likely an English word (share) than pinyin."""

    MAX_SYLLABLE = 6

    def __init__(self, debunks: Sequence[str]):
        self.chars: dict[str, dict[str, int]] = {}
        self.bigrams: set[str] = set()
        for text in debunks:
            for run in _CJK_RUN.findall(text):
                for ch in run:
                    counts = self.chars.setdefault(sound(ch), {})
                    counts[ch] = counts.get(ch, 0) + 1
                self.bigrams.update(run[i : i + 2] for i in range(len(run) - 1))

    def _split(self, run: str) -> list[str] | None:
        """The run as known syllables, longest first; None if it is not all syllables."""
        out, i = [], 0
        while i < len(run):
            for size in range(min(self.MAX_SYLLABLE, len(run) - i), 0, -1):
                if run[i : i + size] in self.chars:
                    out.append(run[i : i + size])
                    i += size
                    break
            else:
                return None
        return out

    def _char(self, sound: str, before: str, after: str) -> str:
        counts = self.chars[sound]
        return max(counts, key=lambda ch: ((before + ch in self.bigrams) + (ch + after in self.bigrams), counts[ch]))

    def restore(self, text: str) -> str:
        if not _CJK_RUN.search(text) or not _LATIN.search(text):
            return text

        def replace(m: re.Match[str]) -> str:
            run = m.group(0)
            before = text[m.start() - 1] if m.start() else ""
            after = text[m.end()] if m.end() < len(text) else ""
            touches = any(ch and _CJK_RUN.match(ch) for ch in (before, after))
            sounds = self._split(run) if touches else None
            if not sounds:
                return run
            out = ""
            for i, sound in enumerate(sounds):
                out += self._char(sound, (before + out)[-1:], after if i == len(sounds) - 1 else "")
            return out

        return _LATIN.sub(replace, text)


def sound_pairs(text: str) -> set[str]:
    s = syllables(text)
    return {f"{a} {b}" for a, b in itertools.pairwise(s)} | ({s[0]} if len(s) == 1 else set())


def _binary(rows: Sequence[set[str]], vocab: dict[str, int], grow: bool) -> sparse.csr_matrix:
    indptr, indices = [0], []
    for row in rows:
        for tok in row:
            j = vocab.get(tok)
            if j is None and grow:
                j = vocab[tok] = len(vocab)
            if j is not None:
                indices.append(j)
        indptr.append(len(indices))
    return sparse.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(len(rows), len(vocab)))


class LexicalIndex:
    """Built once over the debunks; `scores` then compares any number of claims with all of them."""

    def __init__(self, debunks: Sequence[str]):
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.n = len(debunks)
        docs = [tokens(t, compact=True) or ["\u2205"] for t in debunks]
        self.bm25 = bm25s.BM25()
        self.bm25.index(docs, show_progress=False)
        self.vocab = self.bm25.vocab_dict
        self.self_score = np.array([self._bm25(doc)[i] for i, doc in enumerate(docs)], dtype=np.float32)
        self.self_score[self.self_score <= 0] = 1.0
        self.sound_vocab: dict[str, int] = {}
        d = _binary([sound_pairs(t) for t in debunks], self.sound_vocab, grow=True).tocsc()
        df = np.asarray(d.sum(axis=0)).ravel()
        idf = np.log1p(self.n / np.maximum(df, 1)).astype(np.float32)
        self.sound_weighted = (d @ sparse.diags(idf)).T.tocsr()  # vocab × debunks
        self.sound_total = np.asarray(d @ idf).ravel()
        self.sound_total[self.sound_total <= 0] = 1.0

    def _bm25(self, toks: list[str]) -> np.ndarray:
        known = [t for t in toks if t in self.vocab]
        if not known or not self.n:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)

    def scores(self, claims: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each claims × debunks: BM25 share, sound overlap (share of the debunk found in the claim), and
        claim coverage (share of the claim found in the debunk: low when the claim says more, as in
        隔夜茶能漱口吗 against 隔夜茶致癌)."""
        words = np.vstack([self._bm25(tokens(t, compact=True)) for t in claims]) if claims else np.zeros((0, self.n))
        words = np.minimum(words / self.self_score, 1.5)
        pairs = [sound_pairs(t) for t in claims]
        c = _binary(pairs, self.sound_vocab, grow=False)
        overlap = np.asarray((c @ self.sound_weighted).todense())
        sound = overlap / self.sound_total
        # A claim's own weight: known pairs at their IDF, pairs no debunk has at the highest IDF.
        rare = float(np.log1p(max(self.n, 1)))
        idf = np.asarray(self.sound_weighted.max(axis=1).todense()).ravel() if self.n else np.zeros(0)
        known = np.asarray(c @ idf).ravel() if len(idf) else np.zeros(len(claims))
        unknown = np.array([len(p) for p in pairs], dtype=np.float32) - np.asarray(c.sum(axis=1)).ravel()
        total = np.maximum(known + unknown * rare, 1e-6)
        coverage = overlap / total[:, None]
        return (words.astype(np.float32), np.minimum(sound, 1.0).astype(np.float32),
                np.minimum(coverage, 1.0).astype(np.float32))
