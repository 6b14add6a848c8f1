"""Citizen pages: sign-up, login, profile and consents, elder mode, my data, delete account.
Thin: parse input, call a service or selector, render."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kepu.citizens import selectors, services
from kepu.citizens.access import ELDER_COOKIE, citizen_required
from kepu.citizens.models import AGE_BANDS, KEY_GROUPS, PURPOSE_TEXT, Citizen, Purpose
from kepu.core import ratelimit
from kepu.core.errors import InputError
from kepu.literacy.people import OCCUPATIONS

SIGNUPS_PER_HOUR = 10  # per client (network address); sign-up attempts, successful or not
PORTAL_HOME = "/me/"


def _lang() -> str:
    return get_language() or "zh-hans"


def _purposes(current: dict[str, bool] | None = None) -> list[dict[str, Any]]:
    return [
        {"code": p.value, "label": p.label, "text": PURPOSE_TEXT[p], "granted": bool(current and current.get(p.value))}
        for p in Purpose
    ]


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if selectors.citizen_of(request.user) is not None:
        return redirect(PORTAL_HOME)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not ratelimit.hit("citizen-signup", ratelimit.client_key(request), limit=SIGNUPS_PER_HOUR, window=3600):
            errors["form"], status = _("从您所在网络注册的次数太多了，请一小时后再试。"), 429
        else:
            try:
                citizen = services.citizen_signup(
                    identifier=request.POST.get("identifier", ""),
                    password=request.POST.get("password", ""),
                    password_again=request.POST.get("password2", ""),
                    consents_granted=request.POST.getlist("consent"),
                )
            except services.SignupError as exc:
                errors, status = exc.fields, 422
            else:
                if request.user.is_authenticated:
                    logout(request)
                login(request, citizen.user, backend="kepu.core.auth.ModelBackend")
                messages.success(request, _("注册成功。填写下面的资料(都可以不填)，我们就能为您挑选合适的内容。"))
                return redirect("citizens:profile")
    granted = set(request.POST.getlist("consent"))
    return render(
        request,
        "citizens/signup.html",
        {"errors": errors, "data": request.POST, "purposes": _purposes({p: True for p in granted})},
        status=status,
    )


class CitizenAuthForm(AuthenticationForm):
    """Logs in citizens only: a staff account is pointed to the staff login."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if selectors.citizen_of(user) is None:
            raise ValidationError(_("这是工作人员账户，请从工作人员登录页登录。"), code="staff")


class CitizenLogin(auth_views.LoginView):
    template_name = "citizens/login.html"
    authentication_form = CitizenAuthForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self) -> str:
        return PORTAL_HOME


@require_POST
def citizen_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("citizens:login")


def _profile_context(citizen: Citizen, data: Any = None) -> dict[str, Any]:
    topics = selectors.topic_choices()
    lang = _lang()
    suggestion = services.suggested_key_groups(citizen.age_band, citizen.occupation)
    return {
        "citizen": citizen,
        "districts": selectors.district_choices(),
        "age_bands": AGE_BANDS,
        "occupations": OCCUPATIONS,
        "key_groups": KEY_GROUPS,
        "suggested": suggestion,
        "suggested_labels": [str(label) for code, label in KEY_GROUPS if code in suggestion],
        "topics": [(code, name_en if lang.startswith("en") else name_zh) for code, name_zh, name_en in topics],
        "chosen_groups": data.getlist("key_groups") if data is not None else citizen.key_groups,
        "chosen_interests": data.getlist("interests") if data is not None else citizen.interests,
        "data": data,
        "purposes": _purposes(selectors.consents(citizen)),
        "lang": lang,
    }


@never_cache
@citizen_required
def profile(request: HttpRequest) -> HttpResponse:
    """GET shows the profile and consents; POST action=profile saves the profile, action=consents
    records the consent decisions (each box is one purpose)."""
    citizen: Citizen = request.citizen  # type: ignore[attr-defined]
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "consents":
            ticked = set(request.POST.getlist("consent"))
            changed = services.consents_set(citizen=citizen, decisions={p: p in ticked for p in Purpose.values})
            if changed:
                messages.success(request, _("授权设置已保存。"))
            return redirect("citizens:profile")
        if action == "profile":
            data = {
                **request.POST.dict(),
                "key_groups": request.POST.getlist("key_groups"),
                "interests": request.POST.getlist("interests"),
            }
            try:
                services.profile_update(
                    citizen=citizen, data=data, topics=[c for c, _zh, _en in selectors.topic_choices()]
                )
            except services.SignupError as exc:
                errors = exc.fields
                ctx = _profile_context(citizen, request.POST)
                return render(request, "citizens/profile.html", {**ctx, "errors": errors}, status=422)
            messages.success(request, _("资料已保存。"))
            return redirect("citizens:profile")
    return render(request, "citizens/profile.html", {**_profile_context(citizen), "errors": errors})


@require_POST
def elder_switch(request: HttpRequest) -> HttpResponse:
    """Turn elder mode on or off: on the Citizen for a citizen, in a cookie for anyone else."""
    on = request.POST.get("elder") == "1"
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = PORTAL_HOME
    response = redirect(target or PORTAL_HOME)
    citizen = selectors.citizen_of(request.user)
    if citizen is not None:
        services.elder_mode_set(citizen=citizen, on=on)
    elif on:
        response.set_cookie(
            ELDER_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(ELDER_COOKIE)
    return response


@never_cache
@citizen_required
def my_data(request: HttpRequest) -> HttpResponse:
    """What Kepu holds about the citizen, section by section, with the download button."""
    citizen: Citizen = request.citizen  # type: ignore[attr-defined]
    data = selectors.citizen_export(citizen)
    names = selectors.export_section_names()
    lists = {section: rows for section, rows in data.items() if isinstance(rows, list)}
    counts = [(names[section], len(rows)) for section, rows in lists.items() if section in names]
    unnamed = sum(len(rows) for section, rows in lists.items() if section not in names)
    if unnamed:
        counts.append((_("其他记录"), unnamed))
    current = selectors.consents(citizen)
    return render(request, "citizens/data.html", {
        "citizen": citizen,
        "account": data["account"],
        "purposes": _purposes(current),
        "counts": counts,
        "lang": _lang(),
    })


@never_cache
@citizen_required
def my_data_download(request: HttpRequest) -> HttpResponse:
    """Everything Kepu holds about the citizen, as one JSON file (PIPL right of access)."""
    citizen: Citizen = request.citizen  # type: ignore[attr-defined]
    body = json.dumps(selectors.citizen_export(citizen), ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kepu-my-data.json"'
    return response


@never_cache
@citizen_required
def delete_account(request: HttpRequest) -> HttpResponse:
    citizen: Citizen = request.citizen  # type: ignore[attr-defined]
    error, status = "", 200
    if request.method == "POST":
        try:
            services.citizen_delete(citizen=citizen, password=request.POST.get("password", ""))
        except InputError as exc:
            error, status = str(exc), 422
        else:
            logout(request)
            messages.success(request, _("您的账户和全部个人数据已删除。"))
            return redirect("citizens:login")
    return render(request, "citizens/delete.html", {"error": error}, status=status)
