"""`kepu serve [--port N] [--workers N]`: run the platform under gunicorn (static files by WhiteNoise)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kepu.core.checks import require_production_key


class Command(BaseCommand):
    help = "Serve Kepu with gunicorn on 127.0.0.1 (use a reverse proxy in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("KEPU_WEB_WORKERS", "2")))

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            require_production_key()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        call_command("collectstatic", interactive=False, verbosity=0)
        bin_dir = os.path.dirname(sys.executable)
        gunicorn = os.path.join(bin_dir, "gunicorn")
        os.execv(gunicorn, [gunicorn, "kepu.wsgi:application", "--bind", f"{opts['host']}:{opts['port']}",
                            "--workers", str(opts["workers"]), "--access-logfile", "-"])
