"""`kepu community publish-volunteers --year YEAR [--plan CODE]`: republish SCI_VOLUNTEERS,
SCI_INFO_OFFICERS and VOLUNTEER_HOURS for the plan's city from the volunteer registry (the services
already publish on every change; this is for a plan loaded after the records were made)."""

from __future__ import annotations

import argparse
from typing import Any

from django.db import transaction

from kepu.community import indicators
from kepu.core.errors import InputError
from kepu.plans.selectors import plan_default, plan_get

HELP = "Republish the volunteer indicators (volunteers, info officers, approved hours) for a year."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, required=True, help="the calendar year")
    parser.add_argument("--plan", default="", help="plan code (default: the first plan loaded)")


def run(opts: dict[str, Any], stdout: Any) -> None:
    plan = plan_get(opts["plan"]) if opts["plan"] else plan_default()
    if plan is None:
        raise InputError("No plan is loaded yet; load one with `kepu plan import FILE`.")
    with transaction.atomic():
        n = indicators.publish_all(city=plan.region, years=[opts["year"]])
    stdout.write(f"Published {n} volunteer indicator values for {opts['year']}.\n")
