"""Claim matching (interface; the implementation is being written)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kepu.rumours.normalise import normalise


@dataclass(frozen=True)
class Match:
    id: str
    match: str | None
    confidence: float


def match_claims(*, debunks: Sequence[tuple[str, str]], claims: Sequence[tuple[str, str]]) -> list[Match]:
    index = {normalise(text): did for did, text in debunks}
    return [Match(cid, index.get(normalise(text)), 1.0 if normalise(text) in index else 0.0) for cid, text in claims]


def cluster_texts(texts: Sequence[str]) -> list[int]:
    seen: dict[str, int] = {}
    return [seen.setdefault(normalise(t), len(seen)) for t in texts]
