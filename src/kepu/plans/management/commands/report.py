"""`kepu report annual --year YYYY [--plan CODE] [--lang zh-hans|en] [--out DIR]`: the annual district
assessment as a PDF and an XLSX file, built synchronously (no task queue needed on the command line).
The Chinese version is the official one; `--lang en` writes the English translation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError
from kepu.plans import selectors
from kepu.plans.assessment import assessment_compute
from kepu.plans.reports import LANGS, render_pdf, render_xlsx, report_file_name, year_check


class Command(BaseCommand):
    help = "Generate reports. `annual`: the annual district assessment (PDF and XLSX)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{annual}")
        annual = sub.add_parser("annual", help="The annual district assessment: PDF and XLSX.",
                                description="Write kepu-assessment-<plan>-<year>.pdf and .xlsx.")
        annual.add_argument("--year", type=int, required=True, help="The year assessed, e.g. 2025.")
        annual.add_argument("--plan", help="Plan code (default: the first imported plan).")
        annual.add_argument("--lang", choices=[*LANGS, "zh"], default=LANGS[0],
                            help="Language: zh-hans (the official Chinese version, default) or en.")
        annual.add_argument("--out", type=Path, default=Path("."),
                            help="Directory to write the files to (default: the current directory).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "annual":
            lang = LANGS[0] if options["lang"] == "zh" else options["lang"]
            self.annual(year=options["year"], plan_code=options.get("plan"), lang=lang, out=options["out"])

    def annual(self, *, year: int, plan_code: str | None, lang: str, out: Path) -> None:
        plan = selectors.plan_get(plan_code) if plan_code else selectors.plan_default()
        if plan is None:
            raise CommandError(f"--plan: unknown plan {plan_code!r}" if plan_code
                               else "no plan has been imported yet; run: kepu plan import FILE")
        try:
            year_check(plan, year)
        except InputError as exc:
            raise CommandError(f"--year: {exc}") from exc
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"--out: cannot create directory {out}: {exc}") from exc
        assessment = assessment_compute(plan, year)
        for fmt, render in (("pdf", render_pdf), ("xlsx", render_xlsx)):
            path = out / report_file_name(plan, year, fmt, lang)
            path.write_bytes(render(assessment, lang))
            self.stdout.write(str(path))
