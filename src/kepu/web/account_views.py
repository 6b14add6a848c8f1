"""The user's own page (我的账户: roles, API tokens, password), the login lockout page, and the
error handlers' helpers. Thin: each view calls a core service or selector."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from kepu.core import selectors
from kepu.core.errors import InputError
from kepu.core.models import ApiToken
from kepu.core.services import TOKEN_MAX_DAYS, api_token_create, api_token_revoke

TOKEN_DAY_CHOICES = (30, 90, 180, 365)


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """GET shows the page; POST action=create issues a token (shown once, on this response only),
    action=revoke revokes one of the user's own tokens."""
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            token = get_object_or_404(ApiToken, pk=request.POST.get("token", "0") or 0, user=request.user)
            if api_token_revoke(token=token, actor=request.user):  # type: ignore[arg-type]
                messages.success(request, _("令牌 %(prefix)s… 已撤销。") % {"prefix": token.prefix})
            return redirect("web:account")
        if action == "create":
            try:
                days = int(request.POST.get("days", ""))
            except ValueError:
                days = 0
            try:
                new_key = api_token_create(user=request.user, name=request.POST.get("name", ""),  # type: ignore[arg-type]
                                           days=days)
            except InputError as exc:
                for error in exc.errors:
                    messages.error(request, error)
    return render(request, "web/account.html", {
        "roles": selectors.user_roles(request.user),  # type: ignore[arg-type]
        "tokens": selectors.user_tokens(request.user),  # type: ignore[arg-type]
        "new_key": new_key,
        "day_choices": TOKEN_DAY_CHOICES,
        "default_days": settings.KEPU_TOKEN_DAYS,
        "max_days": TOKEN_MAX_DAYS,
        "can_have_tokens": selectors.user_roles(request.user).exists(),  # type: ignore[arg-type]
    })


@method_decorator(never_cache, name="dispatch")
class PasswordChange(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:account")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。此前创建的 API 令牌已全部失效。"))
        return response


def lockout(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' response once a username is locked out from this address (both login pages)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/locked.html", {"minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT},
                  status=429)
