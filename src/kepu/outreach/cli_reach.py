"""`kepu outreach publish-reach --year Y [--plan CODE]`: the year's reach of the plan's five key groups,
for the city and each district, into the plan's OUTREACH_REACH_* indicators (kepu.outreach.indicators)."""

from __future__ import annotations

import argparse
from typing import Any

from kepu.core.errors import InputError
from kepu.outreach.indicators import reach_publish
from kepu.plans.selectors import plan_default, plan_get

HELP = "Publish the year's key-group reach into the plan's indicators (city and districts)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, required=True, help="the calendar year to count")
    parser.add_argument("--plan", default="", help="plan code (default: the first plan loaded)")


def run(opts: dict[str, Any], stdout: Any) -> None:
    plan = plan_get(opts["plan"]) if opts["plan"] else plan_default()
    if plan is None:
        raise InputError(f"No plan {opts['plan']!r}; load one with `kepu plan import FILE`." if opts["plan"]
                         else "No plan is loaded yet; load one with `kepu plan import FILE`.")
    observations = reach_publish(plan=plan, year=opts["year"])
    stdout.write(f"Published {len(observations)} reach values for {opts['year']} into {plan.code}.\n")
