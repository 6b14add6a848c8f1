"""`kepu community capacity --year YEAR [--json] [--publish] [--plan CODE]`: the capacity index
(科学素质建设能力指数) per district, computed by kepu.community.capacity from the plan's observations.

--json prints the contract partner scripts read: an object keyed by district org-unit code,
`{"index": float, "components": {name: value}, "population": int}` (a component without data is
null). --publish also writes the year's CAPACITY_INDEX into the plan (city and districts)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kepu.community import capacity
from kepu.core.errors import InputError
from kepu.plans.selectors import plan_default, plan_get

HELP = "The science-literacy capacity index per district for a year (--json for scripts)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, required=True, help="the calendar year")
    parser.add_argument("--json", action="store_true", help="print JSON keyed by district org-unit code")
    parser.add_argument("--publish", action="store_true", help="also publish CAPACITY_INDEX into the plan")
    parser.add_argument("--plan", default="", help="plan code (default: the first plan loaded)")


def run(opts: dict[str, Any], stdout: Any) -> None:
    plan = plan_get(opts["plan"]) if opts["plan"] else plan_default()
    if plan is None:
        raise InputError(f"No plan {opts['plan']!r}; load one with `kepu plan import FILE`." if opts["plan"]
                         else "No plan is loaded yet; load one with `kepu plan import FILE`.")
    year = opts["year"]
    if not plan.start_year <= year <= plan.end_year:
        raise InputError(f"{year} is outside the plan {plan.code} ({plan.start_year}–{plan.end_year}).")
    if opts["publish"]:
        capacity.capacity_publish(plan=plan, year=year)
    rows = capacity.capacity_compute(plan=plan, years=[year])[year]
    if opts["json"]:
        stdout.write(json.dumps(capacity.as_json(rows), ensure_ascii=False, allow_nan=False, indent=1) + "\n")
        return
    names = [c.code for c in capacity.COMPONENTS]
    stdout.write(f"Capacity index {year}, plan {plan.code} (method: docs/capacity.md)\n")
    stdout.write("unit\tindex\tweight share\tmissing\n")
    for r in rows:
        index = "—" if r.index is None else f"{r.index:.1f}"
        missing = ",".join(m for m in r.missing if m in names) or "-"
        stdout.write(f"{r.unit.code} {r.unit.name_en}\t{index}\t{r.weight_share:.0%}\t{missing}\n")
