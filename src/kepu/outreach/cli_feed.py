"""`kepu outreach feed import FILE --source CODE [--name NAME]`: a partner's RSS/Atom or JSON Feed file as
draft resources (nothing is fetched from the network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser, OutputWrapper

HELP = "Import a partner feed file (RSS 2.0, Atom or JSON Feed) as draft resources."


def add_arguments(parser: CommandParser) -> None:
    sub = parser.add_subparsers(dest="feed_action", required=True)
    imp = sub.add_parser("import", help="One feed file; entries already imported from the source are skipped.")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", required=True, help="Code of the feed source (created when new).")
    imp.add_argument("--name", default="", help="Name of a new source (default: its code).")


def run(opts: dict[str, Any], out: OutputWrapper) -> None:
    from kepu.core.uploads import read_path
    from kepu.outreach.content_import import UPLOAD_KIND
    from kepu.outreach.feeds import feed_import, feed_source_ensure, sniff_format

    path: Path = opts["file"]
    content = read_path(path, kind=UPLOAD_KIND)
    source = feed_source_ensure(code=opts["source"], name_zh=opts["name"], format=sniff_format(content), actor=None)
    counts = feed_import(source=source, content=content, name=path.name, actor=None)
    out.write(f"{counts['created']} draft(s) created, {counts['skipped']} already imported.")
