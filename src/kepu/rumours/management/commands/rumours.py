"""`kepu rumours …`. Subcommands: see kepu.core.subcommands."""

from kepu.core.subcommands import SubcommandsCommand

SUBCOMMANDS: dict[str, str] = {
    "match": "kepu.rumours.cli_match",
}


class Command(SubcommandsCommand):
    help = "Rumours: match claims against debunks, and more."
    subcommands = SUBCOMMANDS
