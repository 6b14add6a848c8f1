"""`kepu outreach content import DIR|FILE [--publish]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser, OutputWrapper

HELP = "Import the topic taxonomy and content files (YAML) into the catalogue."


def add_arguments(parser: CommandParser) -> None:
    sub = parser.add_subparsers(dest="content_action", required=True)
    imp = sub.add_parser("import", help="A content directory (with topics.yaml in it or above it) or one file.")
    imp.add_argument("path", type=Path)
    imp.add_argument("--publish", action="store_true", help="Publish new pieces at once (starter content).")


def run(opts: dict[str, Any], out: OutputWrapper) -> None:
    from kepu.outreach.content_import import content_import

    counts = content_import(path=opts["path"], publish=opts["publish"])
    out.write(
        f"{counts['topics']} topic(s) created or changed; resources: {counts['created']} created, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged."
    )
