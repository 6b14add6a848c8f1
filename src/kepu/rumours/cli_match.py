"""`kepu rumours match --debunks D.jsonl --claims C.jsonl --json`: which debunk, if any, answers each claim.
No database: files in, JSON out. Each line of D is {"id": str, "claim": str}, each line of C
{"id": str, "text": str}. Prints a JSON list, one object per claim in input order:
{"id": str, "match": str | null, "confidence": float} (see kepu.rumours.matcher for what confidence means).
Without --json, one tab-separated line per claim. `kepu rumours match` runs without starting Django
(kepu.cli), as `kepu literacy estimate` does; `kepu rumours --traceback match …` goes through Django."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from kepu.core.errors import InputError
from kepu.core.uploads import _
from kepu.rumours.matcher import match_claims

HELP = "Match claims (JSONL) against debunks (JSONL); no database needed."
MAX_BYTES = 64 * 1024 * 1024
MAX_LINES = 200_000
MAX_TEXT = 2_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debunks", required=True, type=Path, help="JSONL, one {\"id\", \"claim\"} per line")
    parser.add_argument("--claims", required=True, type=Path, help="JSONL, one {\"id\", \"text\"} per line")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--lexical-only", action="store_true", help="the baseline: no embeddings")


def read_jsonl(path: Path, text_key: str) -> list[tuple[str, str]]:
    """(id, text) pairs; every bad line is named, and nothing is matched unless all lines are good."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(_("无法读取文件 %(path)s") % {"path": path}) from exc
    if size > MAX_BYTES:
        raise InputError(_("%(path)s 太大：上限 %(mb)d MB") % {"path": path, "mb": MAX_BYTES // 2**20})
    rows: list[tuple[str, str]] = []
    errors: list[str] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", errors="strict") as fh:
        try:
            for n, line in enumerate(fh, start=1):
                if n > MAX_LINES:
                    raise InputError(_("%(path)s 行数过多：上限 %(n)d 行") % {"path": path, "n": MAX_LINES})
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    errors.append(_("%(path)s 第 %(n)d 行：不是 JSON") % {"path": path.name, "n": n})
                    continue
                ident, text = (obj.get("id"), obj.get(text_key)) if isinstance(obj, dict) else (None, None)
                if not isinstance(ident, str) or not ident:
                    errors.append(_("%(path)s 第 %(n)d 行：id 应为非空字符串") % {"path": path.name, "n": n})
                elif ident in seen:
                    errors.append(_("%(path)s 第 %(n)d 行：id %(id)s 重复") % {"path": path.name, "n": n, "id": ident})
                elif not isinstance(text, str):
                    errors.append(_("%(path)s 第 %(n)d 行：%(key)s 应为字符串") % {"path": path.name, "n": n,
                                                                              "key": text_key})
                else:
                    seen.add(ident)
                    rows.append((ident, text[:MAX_TEXT]))
        except UnicodeDecodeError as exc:
            raise InputError(_("%(path)s 不是 UTF-8 编码") % {"path": path}) from exc
    if errors:
        summary = _("%(path)s 有 %(n)d 处错误，未做匹配") % {"path": path, "n": len(errors)}
        raise InputError(summary, errors=[summary, *errors])
    return rows


def run(opts: dict[str, Any], stdout: TextIO) -> None:
    debunks = read_jsonl(opts["debunks"], "claim")
    claims = read_jsonl(opts["claims"], "text")
    results = match_claims(debunks=debunks, claims=claims, semantic=not opts["lexical_only"])
    if opts["json"]:
        stdout.write(json.dumps([{"id": r.id, "match": r.match, "confidence": r.confidence} for r in results],
                                ensure_ascii=False) + "\n")
    else:
        for r in results:
            stdout.write(f"{r.id}\t{r.match or '-'}\t{r.confidence:.4f}\n")
