"""`kepu plan validate FILE` · `kepu plan import FILE` · `kepu plan targets --json [--plan CODE]` ·
`kepu plan tasks --json [--plan CODE]`"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from kepu.core.errors import InputError
from kepu.plans import selectors, versions
from kepu.plans.plan_file import read_plan
from kepu.plans.plan_import import plan_import


class Command(BaseCommand):
    help = "Validate, import and list plans (the plan as data)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("validate", help="Check a plan file; print every error with its path in the file.")
        v.add_argument("file", type=Path)
        i = sub.add_parser("import", help="Load a plan file (idempotent; an edited file updates the plan).")
        i.add_argument("file", type=Path)
        t = sub.add_parser("targets", help="List a plan's targets.")
        t.add_argument("--json", action="store_true", help="Print a JSON array (the scripts' contract).")
        t.add_argument("--plan", help="Plan code (default: the first plan imported).")
        k = sub.add_parser("tasks", help="List a plan's tasks with their lead and supporting units.")
        k.add_argument("--json", action="store_true", help="Print a JSON array (the scripts' contract).")
        k.add_argument("--plan", help="Plan code (default: the first plan imported).")
        vs = sub.add_parser("versions", help="List a plan's imported versions (or print one version's file).")
        vs.add_argument("--plan", help="Plan code (default: the first plan imported).")
        vs.add_argument("--show", type=int, metavar="VERSION", help="Print the file imported as this version.")
        d = sub.add_parser("diff", help="What changed between two versions, by target, task, indicator ….")
        d.add_argument("old", type=int)
        d.add_argument("new", type=int)
        d.add_argument("--plan", help="Plan code (default: the first plan imported).")
        d.add_argument("--json", action="store_true", help="Print a JSON array.")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _validate(self, opts: dict[str, Any]) -> None:
        path: Path = opts["file"]
        doc, errors = read_plan(path)
        if errors:
            for e in errors:
                self.stderr.write(f"{path.name}: {e}")
            raise CommandError(f"{path.name}: {len(errors)} error(s); nothing was imported.")
        assert doc is not None
        self.stdout.write(
            f"{path.name}: valid — {len(doc['programmes'])} programmes, "
            f"{len(doc['indicators'])} indicators, {len(doc['targets'])} targets."
        )

    def _import(self, opts: dict[str, Any]) -> None:
        try:
            plan, summary = plan_import(path=opts["file"])
        except InputError as exc:
            for e in exc.errors:
                self.stderr.write(e)
            raise CommandError(f"{opts['file'].name}: not imported ({len(exc.errors)} error(s)).") from exc
        if summary.get("unchanged"):
            self.stdout.write(f"{plan.code}: unchanged (version {plan.version}).")
        else:
            self.stdout.write(
                f"{plan.code}: version {plan.version} — created {summary['created']}, "
                f"updated {summary['updated']}, deactivated {summary['deactivated']}."
            )

    def _versions(self, opts: dict[str, Any]) -> None:
        plan = self._plan(opts)
        if opts.get("show") is not None:
            self.stdout.write(self._version(plan, opts["show"]).content)
            return
        for v in versions.plan_versions(plan):
            kept = "" if v.document is not None else "  (file not kept)"
            counts = ", ".join(f"{k} {v.summary[k]}" for k in ("created", "updated", "deactivated") if k in v.summary)
            when = f"{timezone.localtime(v.at):%Y-%m-%d %H:%M}"
            self.stdout.write(f"{v.version:<4} {when}  {v.file_name}  {v.content_hash[:12]}  {counts}{kept}")

    def _diff(self, opts: dict[str, Any]) -> None:
        plan = self._plan(opts)
        try:
            diffs = versions.version_diff(plan, opts["old"], opts["new"])
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(versions.diff_json(diffs), ensure_ascii=False, indent=1))
            return
        if not diffs:
            self.stdout.write(f"{plan.code}: versions {opts['old']} and {opts['new']} are the same.")
        for d in diffs:
            self.stdout.write(f"{d.kind} {d.key} {d.name}: {d.state}")
            for c in d.changes:
                self.stdout.write(f"    {c.field}: {_shown(c.old)} → {_shown(c.new)}")

    @staticmethod
    def _version(plan: Any, number: int) -> Any:
        try:
            return versions.version_get(plan, number)
        except InputError as exc:
            raise CommandError(str(exc)) from exc

    def _plan(self, opts: dict[str, Any]) -> Any:
        try:
            plan = selectors.plan_get(opts["plan"]) if opts.get("plan") else selectors.plan_default()
        except DatabaseError as exc:  # a fresh checkout: no database tables yet
            raise CommandError(
                f"The database is not set up ({exc}); run ./kepu.sh demo, or kepu migrate and kepu plan import FILE."
            ) from exc
        if plan is None:
            raise CommandError(
                f"No plan {opts.get('plan') or ''} imported; run: kepu plan import FILE".replace("  ", " ")
            )
        return plan

    def _tasks(self, opts: dict[str, Any]) -> None:
        rows = [selectors.task_dict(t) for t in selectors.tasks_for(self._plan(opts))]
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        for r in rows:
            support = " / " + "、".join(r["supporting_units"]) if r["supporting_units"] else ""
            units = "、".join(r["lead_units"]) + support
            self.stdout.write(f"{r['code']:8} {r['name_zh']}  [{units}{'等' if r['open_list'] else ''}]")

    def _targets(self, opts: dict[str, Any]) -> None:
        try:
            plan = selectors.plan_get(opts["plan"]) if opts.get("plan") else selectors.plan_default()
        except DatabaseError as exc:  # a fresh checkout: no database tables yet
            raise CommandError(
                f"The database is not set up ({exc}); run ./kepu.sh demo, or kepu migrate and kepu plan import FILE."
            ) from exc
        if plan is None:
            raise CommandError(
                f"No plan {opts.get('plan') or ''} imported; run: kepu plan import FILE".replace("  ", " ")
            )
        rows = [selectors.target_dict(t) for t in selectors.targets_for(plan)]
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        for r in rows:
            deadline = r["deadline_year"] or "/year"
            self.stdout.write(f"{r['code']:6} {r['kind']:8} {r['value']:>10} {r['unit']:3} {deadline}  {r['name_zh']}")


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
