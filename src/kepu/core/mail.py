"""E-mail: one adapter for everything Kepu sends (reminders).

Without `KEPU_SMTP_HOST` mail is not sent but written, one `.log` file per process run, to the
outbox directory (`KEPU_MAIL_OUTBOX`, default `<data dir>/outbox`) through Django's file-based
backend, so a laptop install or a test can read what would have gone out. With `KEPU_SMTP_HOST`
it goes through SMTP: `KEPU_SMTP_PORT` (587), `KEPU_SMTP_USER`, `KEPU_SMTP_PASSWORD`,
`KEPU_SMTP_TLS` (STARTTLS, on by default), `KEPU_SMTP_SSL` (implicit TLS, off), and the sender
`KEPU_MAIL_FROM`.

This module is imported by settings, so Django is imported only inside the functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


def email_settings(environ: Mapping[str, str], data_dir: Path) -> dict[str, Any]:
    """The Django EMAIL_* settings the environment asks for."""

    def flag(name: str, default: bool) -> bool:
        raw = environ.get(name)
        return default if raw is None else raw.strip().lower() in _TRUE

    out: dict[str, Any] = {
        "DEFAULT_FROM_EMAIL": environ.get("KEPU_MAIL_FROM", "kepu@localhost"),
        "EMAIL_SUBJECT_PREFIX": "",
    }
    host = environ.get("KEPU_SMTP_HOST", "").strip()
    if not host:
        out["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
        out["EMAIL_FILE_PATH"] = str(environ.get("KEPU_MAIL_OUTBOX") or data_dir / "outbox")
        return out
    ssl = flag("KEPU_SMTP_SSL", False)
    out.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=host,
        EMAIL_PORT=int(environ.get("KEPU_SMTP_PORT", "465" if ssl else "587")),
        EMAIL_HOST_USER=environ.get("KEPU_SMTP_USER", ""),
        EMAIL_HOST_PASSWORD=environ.get("KEPU_SMTP_PASSWORD", ""),
        EMAIL_USE_SSL=ssl,
        EMAIL_USE_TLS=not ssl and flag("KEPU_SMTP_TLS", True),
        EMAIL_TIMEOUT=int(environ.get("KEPU_SMTP_TIMEOUT", "20")),
    )
    return out


def mail_send(*, to: Sequence[str], subject: str, body: str) -> int:
    """Send (or, in development, write to the outbox) one plain-text message; returns 1 if sent."""
    from django.core.mail import EmailMessage

    return EmailMessage(subject=subject, body=body, to=list(to)).send(fail_silently=False)
