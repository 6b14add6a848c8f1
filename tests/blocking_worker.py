"""`python -m tests.blocking_worker MODULE.FUNCTION MARKER kepu-args…`: run a `kepu` command (e.g.
`db_worker`) with one function replaced by one that writes MARKER and then waits for ever, so that
a test can SIGKILL the real process at a known point in the middle of its work."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path
from typing import Any


def main() -> None:
    target, marker, *argv = sys.argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    import django

    django.setup()
    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    if not hasattr(module, name):
        raise SystemExit(f"{target} does not exist")

    def stop_here(*args: Any, **kwargs: Any) -> None:
        Path(marker).write_text(str(os.getpid()))
        threading.Event().wait()  # until the test kills this process

    setattr(module, name, stop_here)
    from kepu.cli import main as kepu

    kepu(argv)


if __name__ == "__main__":
    main()
