"""Annual district assessment reports (PDF and XLSX), built by a background task."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from kepu.plans.models import Plan, ReportFile


def report_request(*, plan: Plan, year: int, fmt: str, user: AbstractBaseUser) -> ReportFile:
    raise NotImplementedError  # being written now; replaced before commit


def report_build(*, report_id: int) -> None:
    raise NotImplementedError
