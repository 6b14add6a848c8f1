"""`kepu community …`. Subcommands: see kepu.core.subcommands."""

from kepu.core.subcommands import SubcommandsCommand

SUBCOMMANDS: dict[str, str] = {
    "capacity": "kepu.community.cli_capacity",
    "publish-volunteers": "kepu.community.cli_volunteers",
}


class Command(SubcommandsCommand):
    help = "Talent pool, volunteers and the capacity index."
    subcommands = SUBCOMMANDS
