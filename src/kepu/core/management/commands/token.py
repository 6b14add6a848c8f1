"""`kepu token create|list|revoke`: API tokens for scripts.

    kepu token create USERNAME [--name NAME] [--days N]   the token is printed once
    kepu token list [USERNAME] [--all]                    active tokens (--all: expired/revoked too)
    kepu token revoke PREFIX_OR_ID [...]
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kepu.core.errors import InputError
from kepu.core.models import ApiToken
from kepu.core.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        c = sub.add_parser("create", help="Issue a token for a user (printed once).")
        c.add_argument("username")
        c.add_argument("--name", default="script")
        c.add_argument("--days", type=int, default=None, help="Lifetime in days (default KEPU_TOKEN_DAYS, 90).")
        ls = sub.add_parser("list", help="List tokens (never the secret part).")
        ls.add_argument("username", nargs="?")
        ls.add_argument("--all", action="store_true", help="Include expired and revoked tokens.")
        r = sub.add_parser("revoke", help="Revoke tokens by prefix (kp_…) or id, as shown by `list`.")
        r.add_argument("tokens", nargs="+")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user

    def _create(self, opts: dict[str, Any]) -> None:
        try:
            key = api_token_create(user=self._user(opts["username"]), name=opts["name"], days=opts["days"])
        except InputError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(key)

    def _list(self, opts: dict[str, Any]) -> None:
        rows = ApiToken.objects.select_related("user")
        if opts["username"]:
            rows = rows.filter(user=self._user(opts["username"]))
        now = timezone.now()
        self.stdout.write(f"{'id':>5}  {'prefix':10} {'user':12} {'name':20} {'expires':16} {'last used':16} state")
        for t in rows:
            state = t.state(now)
            if state != ApiToken.State.ACTIVE and not opts["all"]:
                continue
            used = f"{timezone.localtime(t.last_used_at):%Y-%m-%d %H:%M}" if t.last_used_at else "-"
            self.stdout.write(f"{t.pk:>5}  {t.prefix + '…':10} {t.user.get_username():12} {t.name[:20]:20} "
                              f"{timezone.localtime(t.expires_at):%Y-%m-%d %H:%M} {used:16} {state.value}")

    def _revoke(self, opts: dict[str, Any]) -> None:
        for ref in opts["tokens"]:
            matches = list(ApiToken.objects.select_related("user").filter(
                pk=int(ref)) if ref.isdigit() else ApiToken.objects.select_related("user").filter(prefix=ref[:8]))
            if len(matches) != 1:
                raise CommandError(f"{ref!r} matches {len(matches)} tokens; use the id from `kepu token list`.")
            token = matches[0]
            done = api_token_revoke(token=token, actor=None)
            self.stdout.write(f"{token.prefix}… {token.name} ({token.user.get_username()}): "
                              + ("revoked" if done else "was already revoked"))
