"""`kepu literacy …`: estimate from a file; item bank import/export; survey waves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.errors import InputError
from kepu.literacy.cli_estimate import VARIANCE_CHOICES, EstimateError
from kepu.literacy.cli_estimate import add_arguments as add_estimate_arguments
from kepu.literacy.cli_estimate import output_lines as estimate_lines


class Command(BaseCommand):
    help = "Citizen science literacy: estimates, item bank, survey waves."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        e = sub.add_parser("estimate", help="Weighted share with design-based SEs from a respondent CSV.")
        add_estimate_arguments(e)
        items = sub.add_parser("items", help="Item bank import/export.")
        isub = items.add_subparsers(dest="items_action", required=True)
        ii = isub.add_parser("import")
        ii.add_argument("files", nargs="+", type=Path)
        ie = isub.add_parser("export")
        ie.add_argument("--format", choices=["yaml", "xlsx"], default="yaml")
        ie.add_argument("--out", type=Path, required=True)
        wave = sub.add_parser("wave", help="Survey waves.")
        wsub = wave.add_subparsers(dest="wave_action", required=True)
        wc = wsub.add_parser("import", help="Create/replace a wave's respondents from a CSV/XLSX file.")
        wc.add_argument("code")
        wc.add_argument("file", type=Path)
        wc.add_argument("--year", type=int, required=True)
        wc.add_argument("--name", default="")
        wc.add_argument("--profile", default="cast_newera")
        ww = wsub.add_parser("weight", help="Rake to population margins, estimate, and publish to the plan.")
        ww.add_argument("code")
        ww.add_argument("--margins", default="district,sex,area", help="Margins from the region file.")
        ww.add_argument("--margins-file", action="append", type=Path, default=[],
                        help="Margins CSV instead: category column(s) then 'population' (repeatable).")
        ww.add_argument("--trim", type=float, nargs=2, metavar=("LOW", "HIGH"))
        ww.add_argument("--publish", action="store_true")
        ww.add_argument(
            "--variance",
            choices=VARIANCE_CHOICES,
            help="Change the wave's variance method (as on the wave page): taylor or jkn (re-raked jackknife).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except (EstimateError, InputError) as exc:
            for line in getattr(exc, "errors", [str(exc)])[1:]:
                self.stderr.write(line)
            raise CommandError(str(exc).splitlines()[0] if isinstance(exc, InputError) else str(exc)) from exc

    def _estimate(self, opts: dict[str, Any]) -> None:
        for line in estimate_lines(opts):
            self.stdout.write(line)

    def _items(self, opts: dict[str, Any]) -> None:
        from kepu.literacy.items import items_export_xlsx, items_export_yaml, items_import, read_item_file
        from kepu.literacy.models import Item

        if opts["items_action"] == "import":
            rows: list[dict[str, Any]] = []
            for path in opts["files"]:
                rows += read_item_file(path)
            result = items_import(rows=rows, source=", ".join(p.name for p in opts["files"]))
            self.stdout.write(
                f"{len(rows)} items: {result['created']} created, {result['updated']} updated, "
                f"{result['revisions']} revision(s) of live items waiting for review, {result['unchanged']} unchanged."
            )
            return
        items = Item.objects.all()
        out: Path = opts["out"]
        if opts["format"] == "yaml":
            out.write_text(items_export_yaml(items), encoding="utf-8")
        else:
            out.write_bytes(items_export_xlsx(items))
        self.stdout.write(str(out))

    def _wave(self, opts: dict[str, Any]) -> None:
        from kepu.literacy import services

        if opts["wave_action"] == "import":
            wave, n = services.wave_import(
                code=opts["code"], path=opts["file"], year=opts["year"], name=opts["name"], profile=opts["profile"]
            )
            self.stdout.write(f"{wave.code}: {n} respondents imported and scored ({wave.profile.code}).")
            return
        from kepu.literacy.estimates import margins_read

        report = services.wave_process(
            code=opts["code"],
            variables=opts["margins"].split(","),
            supplied=margins_read(opts["margins_file"]) if opts["margins_file"] else None,
            trim=tuple(opts["trim"]) if opts["trim"] else None,
            publish=opts["publish"],
            variance=opts["variance"],
        )
        self.stdout.write(report)
