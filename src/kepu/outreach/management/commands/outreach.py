"""`kepu outreach …`. Subcommands: see kepu.core.subcommands."""

from kepu.core.subcommands import SubcommandsCommand

SUBCOMMANDS: dict[str, str] = {
    "content": "kepu.outreach.cli_catalogue",
    "feed": "kepu.outreach.cli_feed",
    "publish-reach": "kepu.outreach.cli_reach",
    "evaluate": "kepu.outreach.evaluate",
}


class Command(SubcommandsCommand):
    help = "Precise science outreach: content catalogue, partner feeds and more."
    subcommands = SUBCOMMANDS
