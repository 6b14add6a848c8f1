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

from kepu.core.chinese import compact_tokenizer, lexicon, tokens

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


_SQUASH = re.compile(r"[^\u3400-\u9fffa-z0-9]+")
STANDALONE = 2000  # a one-character noun used on its own (茶, 汤, 水) is at least this common in jieba's counts
COMMON = 10  # a word that differs from the debunk's by one character (羊奶, 牛奶) counts if it is this common:
# the rare ones are mostly typos (空肚 for 空腹, counted 3 times)


def swaps(claim: str, debunk: str) -> list[tuple[str, str]]:
    """The things a claim puts in place of the debunk's, when it otherwise repeats the debunk's wording:
    隔夜汤会产生致癌物 against the debunk of 隔夜茶会产生致癌物 gives [("汤", "茶")]. Such a claim is a new
    rumour about another thing, however close its words, sounds and embedding are (the same template of
    fear: 羊奶 for 牛奶, 鸡精 for 味精, 地铁 for 高铁). On normalised text. A swap counts only if
    - the rest agrees: the characters both texts share in order cover at least 60 % of the shorter one, and
      the swapped parts (up to five characters each) sit between agreeing runs of two or more characters
      (one will do at either end), or between one such run and the text's end;
    - the parts sound different (鸡站 for 基站 is a homophone typo; gt for 高铁 spells its pinyin initials),
      do not join into a dictionary noun headed by a word (新冠 for 病毒: 新冠病毒 is a kind of 病毒), hold
      no digits (forwards change numbers: 8级 for 7级 is the same rumour), and neither occurs anywhere in
      the other text;
    - each part names a thing: Latin letters (维生素d for 维生素c), or Chinese within or holding a
      dictionary noun of two or more characters that the other text lacks (羊奶, 鸡精, 吃洋葱; only common
      words when one character is swapped for one), or a common noun standing on its own (汤 for 茶);
    - each part is whole words of its text, or lies inside nouns. A typo of the eye (紫莱 for 紫菜,
      塑科袋 for 塑料袋, 空肚 for 空腹) fails these tests, and so does an alignment that cuts words.
    Each swap is given as the two nouns that differ (羊奶, 牛奶 rather than 羊, 牛) where there are such, so
    a caller can tell a synonym (儿童 for 孩子) from another thing by their meaning."""
    import difflib

    c, d = _SQUASH.sub("", claim), _SQUASH.sub("", debunk)
    if not c or not d:
        return []
    ops = difflib.SequenceMatcher(None, c, d, autojunk=False).get_opcodes()
    if sum(i2 - i1 for tag, i1, i2, _j1, _j2 in ops if tag == "equal") < 0.6 * min(len(c), len(d)):
        return []

    def agrees(k: int) -> bool:  # two or more characters, or what is left at either end
        return 0 <= k < len(ops) and ops[k][0] == "equal" and (ops[k][2] - ops[k][1] >= 2 or k in (0, len(ops) - 1))

    found = []
    cuts: dict[str, set[int]] = {}
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        fc, fd = c[i1:i2], d[j1:j2]
        if tag != "replace" or len(fc) > 5 or len(fd) > 5:
            continue
        before, after = agrees(k - 1), agrees(k + 1)
        if not ((before and after) or (before and i2 == len(c)) or (after and i1 == 0)):
            continue
        if fc in d or fd in c or any(ch.isdigit() for ch in fc + fd) or syllables(fc) == syllables(fd):
            continue
        if fc.isascii() != fd.isascii() and _initials(fc) == _initials(fd):
            continue  # gt for 高铁, ddc for 电动车: pinyin initials of the same word
        if (len(fd) > 1 and _count(fc + fd) >= 0) or (len(fc) > 1 and _count(fd + fc) >= 0):
            continue  # 新冠 for 病毒 (新冠病毒 is a kind of 病毒), 病毒 for 新冠: the same thing, named more closely
        if fc.isascii() and fd.isascii():
            found.append((fc, fd))
            continue
        wc, wd = _noun_around(c, i1, i2, d), _noun_around(d, j1, j2, c)
        if len(fc) == len(fd) == 1:
            common = min(_count(c[slice(*wc)]), _count(d[slice(*wd)])) >= COMMON
            if common or (_standalone(c, i1) and _standalone(d, j1)):
                found.append((c[slice(*wc)], d[slice(*wd)]) if common else (fc, fd))
            continue
        named = [p.isascii() or w != (0, 0) or _holds_noun(p, o) or (len(p) == 1 and _standalone(t, a))
                 for p, w, t, a, o in ((fc, wc, c, i1, d), (fd, wd, d, j1, c))]
        # The parts must be whole words, or within a noun: an alignment that cuts 带有 (食物带 for 饭) or
        # 明天 (天将 for 本市会) has found no thing.
        whole = all(_whole(t, *(w if w != (0, 0) else (a, b)), cuts)
                    for t, w, a, b in ((c, wc, i1, i2), (d, wd, j1, j2)))
        if all(named) and whole:
            found.append((c[slice(*wc)] or fc, d[slice(*wd)] or fd))
    return found


def _whole(text: str, a: int, b: int, cuts: dict[str, set[int]]) -> bool:
    """Whether text[a:b] starts and ends on jieba's word boundaries, or inside nouns."""
    if text not in cuts:
        inside: set[int] = set()
        at = 0
        nouns = lexicon()[0]
        for word in compact_tokenizer().cut(text, HMM=False):
            if len(word) > 1 and word not in nouns:
                inside.update(range(at + 1, at + len(word)))
            at += len(word)
        cuts[text] = inside
    return a not in cuts[text] and b not in cuts[text]


def _count(word: str) -> int:
    return lexicon()[0].get(word, -1) if word else -1


def _noun_around(text: str, i: int, j: int, other: str) -> tuple[int, int]:
    """Where the most common dictionary noun of 2–6 characters of `text` that holds text[i:j] and that
    `other` lacks lies ((0, 0) if there is none)."""
    nouns = lexicon()[0]
    spans = [(a, b) for a in range(max(0, j - 6), i + 1) for b in range(max(j, a + 2), min(len(text), a + 6) + 1)
             if text[a:b] in nouns and text[a:b] not in other]
    return max(spans, key=lambda s: nouns[text[s[0]:s[1]]], default=(0, 0))


def _initials(text: str) -> str:
    return text if text.isascii() else "".join(s[0] for s in syllables(text))


def _standalone(text: str, i: int) -> bool:
    """Whether text[i] is a common noun (茶, 汤, 水) standing as a word: in no dictionary word of `text`
    but nouns it heads (隔夜茶), so 经 in 已经 is not."""
    nouns, others = lexicon()
    if nouns.get(text[i], 0) < STANDALONE:
        return False
    return not any(text[a:b] in others
                   for a in range(max(0, i - 3), i + 1) for b in range(max(i + 1, a + 2), min(len(text), a + 4) + 1))


def _holds_noun(part: str, other: str) -> bool:
    """Whether `part` holds a dictionary noun of two or more characters that `other` lacks (吃洋葱: 洋葱)."""
    nouns = lexicon()[0]
    return any(part[a:b] in nouns and part[a:b] not in other
               for a in range(len(part)) for b in range(a + 2, len(part) + 1))
