"""The `kepu` command. Its subcommands are Django management commands living in each app's
`management/commands/` (e.g. `kepu plan validate FILE`, `kepu demo`), so the CLI stays a thin
wrapper over services."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["kepu", *args])


if __name__ == "__main__":
    main()
