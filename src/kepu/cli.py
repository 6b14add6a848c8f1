"""The `kepu` command. Its subcommands are Django management commands living in each app's
`management/commands/` (e.g. `kepu plan validate FILE`, `kepu demo`), so the CLI stays a thin
wrapper over services."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    args = sys.argv[1:] if argv is None else argv
    if args[:2] == ["literacy", "estimate"]:
        literacy_estimate(args[1:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kepu", *args])


def literacy_estimate(args: list[str]) -> None:
    """`kepu literacy estimate` reads a file and prints numbers: it needs no database, models or URLs, so it
    runs without Django's app loading and system checks (two thirds of the command's start-up). Its messages
    stay in the source language, Chinese, which is what the default language (zh-hans) shows anyway."""
    from django.conf import settings

    settings.USE_I18N = False  # translation catalogues are found through the app registry, which is not loaded
    from kepu.literacy.management.commands.literacy import Command

    Command().run_from_argv(["kepu", "literacy", "--skip-checks", *args])


if __name__ == "__main__":
    main()
