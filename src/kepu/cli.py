"""The `kepu` command. Its subcommands are Django management commands living in each app's
`management/commands/` (e.g. `kepu plan validate FILE`, `kepu demo`), so the CLI stays a thin
wrapper over services."""

import os
import sys

# Options every Django management command takes; with any of them `kepu literacy estimate` goes through Django.
DJANGO_OPTIONS = ("--settings", "--pythonpath", "--traceback", "--verbosity", "-v", "--no-color", "--force-color")


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    args = sys.argv[1:] if argv is None else argv
    if args[:2] == ["literacy", "estimate"] and not any(a.split("=")[0] in DJANGO_OPTIONS for a in args):
        literacy_estimate(args[2:])
        return
    if args[:2] == ["rumours", "match"] and not any(a.split("=")[0] in DJANGO_OPTIONS for a in args):
        rumours_match(args[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kepu", *args])


def literacy_estimate(args: list[str]) -> None:
    """`kepu literacy estimate` reads a file and prints numbers: it needs no database, models, URLs or settings,
    so it runs without importing Django at all (Django's start-up would be a tenth of a 1M-row estimate). Same
    options and output as the management command (`kepu.literacy.cli_estimate`); an error is printed as Django
    prints a CommandError, exit status 1. Its messages stay in the source language, Chinese, which is what the
    default language (zh-hans) shows anyway (`kepu.core.uploads._`)."""
    import argparse

    from kepu.core.errors import InputError
    from kepu.literacy.cli_estimate import EstimateError, add_arguments, output_lines

    parser = argparse.ArgumentParser(
        prog="kepu literacy estimate", description="Weighted share with design-based SEs from a respondent CSV."
    )
    add_arguments(parser)
    opts = vars(parser.parse_args(args))
    try:
        lines = output_lines(opts)
    except (EstimateError, InputError) as exc:
        for line in getattr(exc, "errors", [str(exc)])[1:]:
            print(line, file=sys.stderr)
        message = str(exc).splitlines()[0] if isinstance(exc, InputError) else str(exc)
        print(f"CommandError: {message}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def rumours_match(args: list[str]) -> None:
    """`kepu rumours match` reads two files and prints JSON: like `literacy estimate`, it needs no database,
    so it skips Django's start-up (about 1.5 s of a 1,000 × 1,000 match here). Same options, output and
    errors as the management command (`kepu.rumours.cli_match`)."""
    import argparse

    from kepu.core.errors import InputError
    from kepu.rumours.cli_match import add_arguments, run

    parser = argparse.ArgumentParser(prog="kepu rumours match", description="Match claims (JSONL) against debunks.")
    add_arguments(parser)
    try:
        run(vars(parser.parse_args(args)), sys.stdout)
    except InputError as exc:
        for line in exc.errors[1:]:
            print(line, file=sys.stderr)
        print(f"CommandError: {exc.errors[0]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
