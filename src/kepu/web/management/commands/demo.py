"""`kepu demo [--serve]`: migrate, load the Changzhou region and plan, fill demo data, and serve."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kepu.core.services import region_import
from kepu.plans.demo import DEMO_PASSWORD, DEMO_USERS, demo_generate
from kepu.plans.plan_import import plan_import


class Command(BaseCommand):
    help = "Set up the embedded platform with the Changzhou plan and realistic demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--serve", action="store_true", help="Start the web server afterwards.")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, *args: Any, **opts: Any) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        region_import(path=settings.KEPU_REGION_FILE)
        plan, _summary = plan_import(path=settings.KEPU_PLAN_FILE)
        result = demo_generate(plan=plan, seed=opts["seed"])
        self.stdout.write(f"Plan {plan.code} v{plan.version}: {result['observations']} demo observations, "
                          f"{result['statuses']} target statuses.")
        # The literacy app plugs in through its own demo: a simulated survey wave published into the plan.
        from kepu.literacy.demo import literacy_demo

        self.stdout.write(literacy_demo(year=timezone.localdate().year, seed=opts["seed"]))
        from kepu.outreach.catalogue_demo import catalogue_demo

        self.stdout.write(catalogue_demo())
        from kepu.citizens.demo import DEMO_CITIZEN_NAMES, citizens_demo

        self.stdout.write(citizens_demo(password=DEMO_PASSWORD))
        from kepu.outreach.engagement_demo import engagement_demo

        self.stdout.write(engagement_demo(plan=plan, seed=opts["seed"]))
        from kepu.outreach.kiosk import kiosk_demo

        self.stdout.write(kiosk_demo())
        from kepu.quiz.demo import quiz_demo

        self.stdout.write(quiz_demo(seed=opts["seed"]))
        # People, places and money: each registry seeds its records through its own services and
        # publishes them into the plan (its indicators.py); the capacity index is computed last,
        # from those published figures.
        import importlib

        # Emergency science and rumours come after them: they use the talent pool's experts and the catalogue.
        for app in ("community", "events", "facilities", "funding", "recognition", "emergency", "rumours"):
            seeded = importlib.import_module(f"kepu.{app}.demo").seed(plan=plan, year=timezone.localdate().year)
            self.stdout.write(f"{app}: " + ", ".join(f"{k} {v}" for k, v in seeded.items()))
        from kepu.community.capacity import capacity_publish_all

        self.stdout.write(f"capacity index: {capacity_publish_all(plan=plan)} observations")
        url = f"http://127.0.0.1:{opts['port']}/"
        self.stdout.write(f"\nKepu is at {url}\nDemo logins (password: {DEMO_PASSWORD}):")
        for username, full_name, _roles in DEMO_USERS:
            self.stdout.write(f"  {username:9} {full_name}")
        for username, full_name in DEMO_CITIZEN_NAMES.items():
            self.stdout.write(f"  {username:9} {full_name}  →  /me/login/")
        self.stdout.write("  expert1 … expert5  人才库专家(评审、任务)  →  /community/tasks/")
        self.stdout.write("  rumour_office, rumour_editor, rumour_reviewer  科学辟谣  →  /rumours/claims/")
        self.stdout.write("  em_expert  应急科普专家(指引审核)  →  /emergency/review/")
        if opts["serve"]:
            # The demo is the embedded mode: its public key is accepted here (and by the gunicorn
            # workers, which inherit the environment), never by a plain `kepu serve`.
            settings.KEPU_EMBEDDED = True
            os.environ["KEPU_EMBEDDED"] = "1"
            call_command("serve", port=opts["port"])
